"""Every query on accounts."""

from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.dialect import among, insert_ignore
from app.models import Account, Action, Cursor, RelationCache, StreamState
from app.pagination import Page, PageParams, T, paginate


async def get(session: AsyncSession, account_id: int) -> Account | None:
    return await session.get(Account, account_id)


async def by_handle(session: AsyncSession, platform: str, handle: str) -> Account | None:
    return await session.scalar(select(Account).where(Account.platform == platform, Account.handle == handle))


async def by_platform_user(session: AsyncSession, platform: str, platform_user_id: str) -> Sequence[Account]:
    """Accounts of `platform` connected as the platform's user `platform_user_id`."""
    query = select(Account).where(Account.platform == platform, Account.platform_user_id == platform_user_id)
    return (await session.scalars(query)).all()


async def page(session: AsyncSession, *, ids: Iterable[int] | None, page: PageParams,
               into: Callable[[Account], T]) -> Page[T]:
    """A page of accounts, limited to `ids` unless None (admin)."""
    query = select(Account)
    if ids is not None:
        query = query.where(among(Account.id, ids))
    return await paginate(session, query.order_by(Account.id), page=page, into=into)


async def visible(session: AsyncSession, ids: Iterable[int] | None) -> Sequence[Account]:
    """Every account, or those of `ids` unless None (admin), oldest first (the dashboard's list)."""
    query = select(Account)
    if ids is not None:
        query = query.where(among(Account.id, ids))
    return (await session.scalars(query.order_by(Account.id))).all()


async def enabled(session: AsyncSession) -> Sequence[Account]:
    """Every enabled account, oldest first: the ones the worker polls, streams and acts for."""
    return (await session.scalars(select(Account).where(Account.enabled.is_(True)).order_by(Account.id))).all()


async def poll_states(session: AsyncSession) -> Sequence[Row[int, list[str], dict[str, Any], datetime, str, bool]]:
    """(id, sources, conditions, updated_at, platform, stop_words_enabled) of every enabled account,
    oldest first: what the poll job reads every tick (whole Account objects, 10,000 of them, cost the
    worker most of a second)."""
    query = (select(Account.id, Account.sources, Account.conditions, Account.updated_at, Account.platform,
                    Account.stop_words_enabled)
             .where(Account.enabled.is_(True)).order_by(Account.id))
    return (await session.execute(query)).all()


async def platforms_in_use(session: AsyncSession) -> list[str]:
    """The platforms of the enabled accounts."""
    return sorted(set(await session.scalars(select(Account.platform).where(Account.enabled.is_(True)))))


async def first_enabled_on(session: AsyncSession, platform: str) -> Account | None:
    """An enabled account on `platform` (the oldest), e.g. to ask that platform who a name is."""
    query = select(Account).where(Account.platform == platform, Account.enabled.is_(True)).order_by(Account.id)
    return await session.scalar(query.limit(1))


async def existing_ids(session: AsyncSession, ids: Iterable[int]) -> set[int]:
    """Those of `ids` that name an account."""
    return set(await session.scalars(select(Account.id).where(among(Account.id, ids))))


async def set_credentials(session: AsyncSession, *, account_id: int, blob: str) -> None:
    """Store the account's encrypted credentials without loading the row."""
    await session.execute(update(Account).where(Account.id == account_id).values(credentials_encrypted=blob))


async def cursors(session: AsyncSession, account_id: int) -> Sequence[Cursor]:
    """The account's sources, each with how its polls go."""
    return (await session.scalars(select(Cursor).where(Cursor.account_id == account_id).order_by(Cursor.source))).all()


async def stream_state(session: AsyncSession, account_id: int) -> StreamState | None:
    return await session.get(StreamState, account_id)


async def relation(session: AsyncSession, account_id: int, kind: str) -> RelationCache | None:
    """The account's cached relation of one kind (`followers`, `blocked_by`...), if fetched yet."""
    return await session.get(RelationCache, (account_id, kind))


async def add_relation(session: AsyncSession, *, account_id: int, kind: str, members: list[str], error: str | None,
                       at: datetime) -> None:
    """Cache a relation fetched at `at`, unless one of that kind is cached already."""
    await session.execute(insert_ignore(session, RelationCache, conflict=["account_id", "kind"]).values(
        account_id=account_id, kind=kind, members=members, error=error, refreshed_at=at))


async def relations(session: AsyncSession, account_id: int) -> Sequence[RelationCache]:
    return (await session.scalars(select(RelationCache).where(RelationCache.account_id == account_id)
                                  .order_by(RelationCache.kind))).all()


async def relations_of_accounts(session: AsyncSession, account_ids: Collection[int]) -> Sequence[RelationCache]:
    """The cached relations of these accounts, by account then kind."""
    query = select(RelationCache).where(among(RelationCache.account_id, account_ids))
    return (await session.scalars(query.order_by(RelationCache.account_id, RelationCache.kind))).all()


async def relations_older_than(session: AsyncSession, at: datetime) -> Sequence[RelationCache]:
    """Every cached relation (of any account) last refreshed before `at`."""
    return (await session.scalars(select(RelationCache).where(RelationCache.refreshed_at < at))).all()


async def waiting_actions(session: AsyncSession, account_id: int, due) -> tuple[int, datetime | None]:
    """How many of the account's actions are due and waiting to be sent, and since when the oldest."""
    since = func.coalesce(Action.next_attempt_at, Action.created_at)
    count, oldest = (await session.execute(select(func.count(), func.min(since))
                                           .where(Action.account_id == account_id, due))).one()
    return count or 0, oldest
