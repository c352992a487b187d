"""Every query on accounts."""

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Account, Action, Cursor, RelationCache, StreamState


async def get(session: AsyncSession, account_id: int) -> Account | None:
    return await session.get(Account, account_id)


async def by_handle(session: AsyncSession, platform: str, handle: str) -> Account | None:
    return await session.scalar(select(Account).where(Account.platform == platform, Account.handle == handle))


async def by_platform_user(session: AsyncSession, platform: str, platform_user_id: str) -> Sequence[Account]:
    """Accounts of `platform` connected as the platform's user `platform_user_id`."""
    query = select(Account).where(Account.platform == platform, Account.platform_user_id == platform_user_id)
    return (await session.scalars(query)).all()


async def page(
    session: AsyncSession, *, ids: Iterable[int] | None, limit: int, offset: int
) -> tuple[Sequence[Account], int]:
    """A page of accounts, limited to `ids` unless None (admin)."""
    query = select(Account)
    if ids is not None:
        query = query.where(Account.id.in_(list(ids)))
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(query.order_by(Account.id).limit(limit).offset(offset))
    return rows.all(), total or 0


async def enabled(session: AsyncSession) -> Sequence[Account]:
    return (await session.scalars(select(Account).where(Account.enabled.is_(True)).order_by(Account.id))).all()


async def cursors(session: AsyncSession, account_id: int) -> Sequence[Cursor]:
    """The account's sources, each with how its polls go."""
    return (await session.scalars(select(Cursor).where(Cursor.account_id == account_id).order_by(Cursor.source))).all()


async def stream_state(session: AsyncSession, account_id: int) -> StreamState | None:
    return await session.get(StreamState, account_id)


async def relations(session: AsyncSession, account_id: int) -> Sequence[RelationCache]:
    return (await session.scalars(select(RelationCache).where(RelationCache.account_id == account_id)
                                  .order_by(RelationCache.kind))).all()


async def waiting_actions(session: AsyncSession, account_id: int, due) -> tuple[int, datetime | None]:
    """How many of the account's actions are due and waiting to be sent, and since when the oldest."""
    since = func.coalesce(Action.next_attempt_at, Action.created_at)
    count, oldest = (await session.execute(select(func.count(), func.min(since))
                                           .where(Action.account_id == account_id, due))).one()
    return count or 0, oldest
