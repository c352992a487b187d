"""GET/PUT /accounts/{account_id}/filters."""

from fastapi import APIRouter

from app.accounts.service import get_for
from app.auth.caller import Capability
from app.deps import CallerDep, SessionDep
from app.errors import error_responses
from app.filters import service
from app.filters.schemas import Filters, FiltersRead
from app.pagination import PathId

router = APIRouter(tags=["filters"], responses=error_responses(404))


@router.get("/accounts/{account_id}/filters", response_model=FiltersRead)
async def get_filters(account_id: PathId, session: SessionDep, caller: CallerDep):
    """The account's filters (all off until set)."""
    await get_for(session, account_id=account_id, caller=caller, need=Capability.read)
    return await service.read(session, account_id=account_id)


@router.put("/accounts/{account_id}/filters", response_model=FiltersRead, responses=error_responses(403))
async def put_filters(account_id: PathId, data: Filters, session: SessionDep, caller: CallerDep):
    """Replace the account's filters; they apply to the next post and to posts already queued."""
    await get_for(session, account_id=account_id, caller=caller, need=Capability.configure)
    return await service.replace(session, account_id=account_id, data=data, caller=caller)
