"""Every query on accounts."""

from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Account


async def get(session: AsyncSession, account_id: int) -> Account | None:
    return await session.get(Account, account_id)


async def by_handle(session: AsyncSession, platform: str, handle: str) -> Account | None:
    return await session.scalar(select(Account).where(Account.platform == platform, Account.handle == handle))


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
