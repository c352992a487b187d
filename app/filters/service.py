"""Reading and replacing an account's filters."""

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import before_after, record
from app.auth.caller import Caller
from app.filters import repository
from app.filters.schemas import Filters, FiltersRead
from app.models import AccountFilters


async def read(session: AsyncSession, *, account_id: int) -> FiltersRead:
    """The account's filters (all off until set)."""
    row = await repository.get(session, account_id)
    if row is None:
        return FiltersRead(account_id=account_id)
    return FiltersRead(account_id=account_id, updated_at=row.updated_at, **Filters.model_validate(row).model_dump())


async def replace(session: AsyncSession, *, account_id: int, data: Filters, caller: Caller) -> FiltersRead:
    """Replace the account's filters (audited with the fields that changed, before and after)."""
    row = await repository.get(session, account_id)
    before = (Filters() if row is None else Filters.model_validate(row)).model_dump()
    if row is None:
        row = AccountFilters(account_id=account_id)
        session.add(row)
    for key, value in data.model_dump().items():
        setattr(row, key, value)
    await session.flush()
    await record(session, caller, "filters.update", target_type="filters", target_id=account_id,
                 account_id=account_id, detail=before_after(before, data.model_dump()))
    return FiltersRead(account_id=account_id, updated_at=row.updated_at, **data.model_dump())
