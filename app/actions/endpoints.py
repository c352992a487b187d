"""The queue and the log of an account; approve, reject and undo."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.accounts.service import get_for
from app.actions import repository, service
from app.actions.schemas import ActionRead
from app.auth.caller import Capability
from app.deps import CallerDep, SessionDep
from app.errors import error_responses
from app.models.action import ActionStatus
from app.pagination import Page, PageParams, PathId, page_params

# Each operation names an account or an action; a moderator may do all of them (no 403).
router = APIRouter(tags=["actions"], responses=error_responses(404))


@router.get("/accounts/{account_id}/actions", response_model=Page[ActionRead])
async def list_actions(account_id: PathId, session: SessionDep, caller: CallerDep,
                       page: Annotated[PageParams, Depends(page_params)],
                       status: Annotated[list[ActionStatus] | None, Query(description="filter by status")] = None):
    """The account's queue and log, newest first; each skipped action says why."""
    await get_for(session, account_id=account_id, caller=caller, need=Capability.read)
    found = await repository.page(session, account_id=account_id, statuses=[s.value for s in status or []], page=page,
                                  into=lambda action: action)
    return Page(items=await service.read(session, found.items), total=found.total, limit=found.limit,
                offset=found.offset)


@router.get("/actions/{action_id}", response_model=ActionRead)
async def get_action(action_id: PathId, session: SessionDep, caller: CallerDep):
    """One action."""
    action = await service.get_for_caller(session, action_id=action_id, caller=caller, need=Capability.read)
    return await service.read_one(session, action)


@router.post("/actions/{action_id}/approve", response_model=ActionRead, responses=error_responses(409))
async def approve_action(action_id: PathId, session: SessionDep, caller: CallerDep):
    """Send a post that waits for review (within the limits, after the block and filter checks)."""
    action = await service.get_for_caller(session, action_id=action_id, caller=caller, need=Capability.moderate)
    return await service.read_one(session, await service.approve(session, action=action, caller=caller))


@router.post("/actions/{action_id}/reject", response_model=ActionRead, responses=error_responses(409))
async def reject_action(action_id: PathId, session: SessionDep, caller: CallerDep):
    """Do not send a post that waits for review or in the queue."""
    action = await service.get_for_caller(session, action_id=action_id, caller=caller, need=Capability.moderate)
    return await service.read_one(session, await service.reject(session, action=action, caller=caller))


@router.post("/actions/{action_id}/undo", response_model=ActionRead, status_code=202, responses=error_responses(409))
async def undo_action(action_id: PathId, session: SessionDep, caller: CallerDep):
    """Undo a sent repost through the platform: 202 with status `undoing` (carried out within the
    platform's limits, then `undone`). Asking again while undoing or undone changes nothing; an
    action that was not sent is a 409."""
    action = await service.get_for_caller(session, action_id=action_id, caller=caller, need=Capability.moderate)
    return await service.read_one(session, await service.request_undo(session, action=action, caller=caller))
