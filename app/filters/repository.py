"""Every query on account filters."""

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.dialect import among
from app.models import AccountFilters


async def get(session: AsyncSession, account_id: int) -> AccountFilters | None:
    """The account's filters row; None until its filters were first set."""
    return await session.get(AccountFilters, account_id)


async def of_accounts(session: AsyncSession, account_ids: Collection[int]) -> dict[int, AccountFilters]:
    """The filters rows of these accounts, by account id (an account without one is absent)."""
    rows = await session.scalars(select(AccountFilters).where(among(AccountFilters.account_id, account_ids)))
    return {row.account_id: row for row in rows}
