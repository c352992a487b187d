"""GET/PUT /accounts/{account_id}/filters."""

from fastapi import APIRouter

from app.accounts.service import get_for
from app.audit import record
from app.auth.caller import Capability
from app.deps import CallerDep, SessionDep
from app.filters.schemas import Filters, FiltersRead
from app.models import AccountFilters
from app.pagination import PathId

router = APIRouter(tags=["filters"])


@router.get("/accounts/{account_id}/filters", response_model=FiltersRead)
async def get_filters(account_id: PathId, session: SessionDep, caller: CallerDep):
    """The account's filters (all off until set)."""
    await get_for(session, account_id=account_id, caller=caller, need=Capability.read)
    row = await session.get(AccountFilters, account_id)
    if row is None:
        return FiltersRead(account_id=account_id)
    return FiltersRead(account_id=account_id, updated_at=row.updated_at, **Filters.model_validate(row).model_dump())


@router.put("/accounts/{account_id}/filters", response_model=FiltersRead)
async def put_filters(account_id: PathId, data: Filters, session: SessionDep, caller: CallerDep):
    """Replace the account's filters; they apply to the next post and to posts already queued."""
    await get_for(session, account_id=account_id, caller=caller, need=Capability.configure)
    row = await session.get(AccountFilters, account_id)
    if row is None:
        row = AccountFilters(account_id=account_id)
        session.add(row)
    for key, value in data.model_dump().items():
        setattr(row, key, value)
    await session.flush()
    await record(session, caller, "filters.update", target_type="filters", target_id=account_id,
                 account_id=account_id, detail=data.model_dump())
    return FiltersRead(account_id=account_id, updated_at=row.updated_at, **data.model_dump())
