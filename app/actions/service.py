"""Review and undo: what moderators do to single actions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository as accounts_repo
from app.accounts.service import get_for
from app.actions import repository
from app.actions.audit import record_action
from app.actions.schemas import ActionRead
from app.actions.states import move
from app.actions.waiting import waiting
from app.auth.caller import Caller, Capability
from app.db.base import utcnow
from app.errors import NotFound
from app.models import Account, Action, ActionStatus
from app.pipeline.views import sent_times

WAITING = (ActionStatus.queued, ActionStatus.failed, ActionStatus.review)


async def get_for_caller(session: AsyncSession, *, action_id: int, caller: Caller, need: Capability) -> Action:
    """The action if the caller reaches its account; 404 otherwise (nothing leaks)."""
    action = await repository.get(session, action_id)
    if action is None or not caller.reaches(action.account_id):
        raise NotFound(f"action {action_id} not found")
    await get_for(session, account_id=action.account_id, caller=caller, need=need)
    return action


async def approve(session: AsyncSession, *, action: Action, caller: Caller) -> Action:
    """A reviewed post goes to the queue (it is still checked against blocks and limits before sending)."""
    now = utcnow()  # a rule's timing still holds (scheduled_at); one already past goes at once
    move(action, ActionStatus.queued, only_from=[ActionStatus.review], why="not waiting for review",
         next_attempt_at=max(now, action.scheduled_at or now), decided_by=caller.label)
    await record_action(session, caller, "action.approve", action)
    return action


async def reject(session: AsyncSession, *, action: Action, caller: Caller, why: str = "") -> Action:
    """A post waiting for review (or in the queue) is not sent; `why`, when given, is kept in its reason."""
    move(action, ActionStatus.rejected, why="only waiting actions can be rejected", next_attempt_at=None,
         decided_by=caller.label, reason=f"rejected by {caller.label}" + (f": {why}" if why else ""))
    await record_action(session, caller, "action.reject", action, **({"why": why} if why else {}))
    return action


async def request_undo(session: AsyncSession, *, action: Action, caller: Caller | None, why: str = "") -> Action:
    """Ask for a sent repost to be undone: it is `undoing` until the undo job has removed it on the
    platform, within the platform's limits. Asking again while it is undoing or undone changes
    nothing (the first request stands); `decided_by` keeps who approved or rejected it."""
    if action.status in (ActionStatus.undoing, ActionStatus.undone):
        return action
    now = utcnow()
    move(action, ActionStatus.undoing, why="only a done action can be undone (reject waiting ones)",
         undo_requested_at=now, undo_requested_by=caller.label if caller else "system", next_attempt_at=now,
         undo_attempts=0, error=None)
    await record_action(session, caller, "action.undo", action, why=why)
    return action


async def read(session: AsyncSession, actions: Sequence[Action]) -> list[ActionRead]:
    """The actions as the API shows them, each waiting one with why and until when."""
    now = utcnow()
    accounts: dict[int, tuple[Account | None, list[datetime]]] = {}
    out = []
    for action in actions:
        item = ActionRead.model_validate(action)
        if action.status in WAITING:
            if action.account_id not in accounts:  # one account read and one sends query per account
                accounts[action.account_id] = await _account_sends(session, action.account_id, now)
            account, sent = accounts[action.account_id]
            if account is not None:
                wait = waiting(action, account, sent, now)
                item = item.model_copy(update={"waiting_for": wait.reason, "expected_at": wait.expected_at})
        out.append(item)
    return out


async def read_one(session: AsyncSession, action: Action) -> ActionRead:
    """One action as the API shows it."""
    return (await read(session, [action]))[0]


async def _account_sends(session: AsyncSession, account_id: int,
                         now: datetime) -> tuple[Account | None, list[datetime]]:
    return await accounts_repo.get(session, account_id), await sent_times(session, account_id, now)
