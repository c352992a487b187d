"""Every query on account filters."""

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AccountFilters


async def get(session: AsyncSession, account_id: int) -> AccountFilters | None:
    """The account's filters row; None until its filters were first set."""
    return await session.get(AccountFilters, account_id)
