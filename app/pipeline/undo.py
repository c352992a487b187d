"""Undo: `undoing` actions (asked one by one, or all of a blocked author's) are removed within limits.

The adapters remove every repost of ours they find (GoToSocial may hold several boosts of one
status), and one that finds nothing of ours raises PostGone, which counts as undone: so a try
after one that may have reached the platform (a lost answer, a worker that died and whose lease
ran out) removes nothing twice. The lease is renewed while the call is out; the outcome is
written only while it is ours. Removed -> `undone`; failed -> retried with backoff while
`undoing`, or back to `done` with the error once the failure policy gives up (app/actions/states.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.conditions import send_blocked_until
from app.actions import repository
from app.actions.audit import record_action
from app.actions.states import move
from app.config import Settings
from app.db.base import utcnow
from app.db.session import transaction
from app.engine.limits import LimitSettings, earliest_send
from app.models import Account, Action, ActionStatus
from app.pipeline.calls import Result, Subject, call_and_record
from app.pipeline.dispatcher import SENDS
from app.pipeline.fanout import Fanout, host_of, one_by_one, within
from app.pipeline.leases import claim, hold, release
from app.pipeline.outcome import backoff
from app.pipeline.views import platform_windows, sent_times
from app.platforms.base import ActionClient, PlatformError, PostGone
from app.platforms.registry import get_platform
from app.runtime import Runtime

log = logging.getLogger("reposter.undo")

undo_due = repository.due_to_undo


async def undo_due_actions(runtime: Runtime, fanout: Fanout | None = None, *, wait: float | None = None) -> int:
    """Carry out requested undos; returns how many were undone. Accounts are served concurrently
    (`fanout`, as sends: an account busy sending is left out), each one's undos in order
    (`one_by_one`: after one that used up its budget the rest are given back for a later round)."""
    fanout = fanout or Fanout.of(runtime.settings)
    now = utcnow()
    async with fanout.claiming(SENDS):  # as dispatch: never two rounds starting one account
        busy = fanout.busy(SENDS)
        async with transaction(runtime.sessions) as session:
            free_accounts = [Action.account_id.not_in(busy)] if busy else []
            ids = await claim(session, Action, undo_due(now), *free_accounts,
                              order=[Action.undo_requested_at, Action.id], limit=50, owner=runtime.worker_id,
                              now=now, seconds=runtime.settings.lease_seconds)
            by_account: dict[int, tuple[str, list[int]]] = {}
            for action_id, account_id, platform, config in await repository.hosts_of(
                    session, ids, Action.undo_requested_at, Action.id):
                by_account.setdefault(account_id, (host_of(platform, config), []))[1].append(action_id)
        jobs: dict[int, tuple[str, Callable[[], Awaitable[int]]]] = {
            aid: (host, partial(one_by_one, runtime, Action, mine, partial(_undo_one, runtime),
                                budget=runtime.settings.send_budget_seconds))
            for aid, (host, mine) in by_account.items()}
        tasks = fanout.start(SENDS, jobs)
    return await fanout.collect(SENDS, tasks, wait=wait)


async def _undo_one(runtime: Runtime, action_id: int) -> int:
    """Within the platform's undo limits, undo on the platform and record it (calls.call_and_record)."""
    if not await _may_undo_now(runtime, action_id):
        return 0

    async def call(client: ActionClient, subject: Subject) -> None:
        action = subject.action
        undoing = client.undo(subject.post, action.platform_action_id, action.kind)
        await within(runtime.settings.send_budget_seconds, undoing,
                     f"{subject.account.platform}: undoing {action.kind} of {action.post_id}")

    async def write(session: AsyncSession, result: Result[None]) -> int:
        return await _record(session, result, runtime.settings)

    return await call_and_record(runtime, action_id, call, write, what="undo") or 0


async def _may_undo_now(runtime: Runtime, action_id: int) -> bool:
    """Whether the lease is still ours and the platform's undo limits allow a call now (if not,
    the action is given back, due when they do)."""
    now = utcnow()
    async with transaction(runtime.sessions) as session:
        if not await hold(session, Action, action_id, runtime.worker_id, runtime.settings.lease_seconds):
            log.info("lease lost before undoing", extra={"action_id": action_id, "worker": runtime.worker_id})
            return False
        action = await session.get_one(Action, action_id)
        account = await session.get_one(Account, action.account_id)
        slot = earliest_send(LimitSettings(windows=platform_windows(account, "undo")),
                             await sent_times(session, account.id, now, undo=True), now)
        bucket = get_platform(account.platform).rate_bucket(f"undo:{action.kind}")
        held = send_blocked_until(account, now, bucket=bucket)
        if slot > now or held:
            action.next_attempt_at = max(slot, held or slot)
            await release(session, Action, [action_id], runtime.worker_id)
            return False
    return True


async def _record(session: AsyncSession, result: Result[None], settings: Settings) -> int:
    action, error = result.action, result.error
    if error is None or isinstance(error, PostGone):
        move(action, ActionStatus.undone, undone_at=utcnow(), next_attempt_at=None,
             error="already removed on the platform" if error else None)
        await record_action(session, None, "action.undone", action, by=action.undo_requested_by)
        return 1
    if not _undo_failed(action, result.account, error, settings):
        await _give_up(session, action)
    return 0


async def _give_up(session: AsyncSession, action: Action) -> None:
    """The repost stays: back to `done`, the error saying so, the request cleared so it can be asked again."""
    tries = f"{action.undo_attempts} {'try' if action.undo_attempts == 1 else 'tries'}"
    action.error = f"{action.error}; gave up after {tries}: the repost is still there"
    await record_action(session, None, "action.undo_failed", action, by=action.undo_requested_by, error=action.error)
    move(action, ActionStatus.done, undo_requested_at=None, undo_requested_by=None)


def _undo_failed(action: Action, account: Account, error: Exception, settings: Settings) -> bool:
    """Record the failure and when to try again; False when the policy gives up (the repost is still there)."""
    action.undo_attempts += 1
    action.error = f"undo failed: {error}"
    log.warning("undo failed", extra={"action_id": action.id, "error": str(error)})
    if not isinstance(error, PlatformError):  # an adapter bug: retrying will not mend it
        log.error("adapter error", exc_info=error, extra={"action_id": action.id})
        error = PlatformError(f"{type(error).__name__}: {error}", retryable=False)
    action.next_attempt_at = backoff(account, error, attempts=action.undo_attempts, settings=settings).at
    return action.next_attempt_at is not None
