"""After a crash: `sending` rows whose worker died are settled by asking the platform.

The platform is asked for this account's own repost, quote or like of the post (`find_own`):
there -> done; not there -> queued to be sent; cannot tell -> failed with the reason, and the
next try asks again before it sends (no kind is re-sent blind: GoToSocial makes a new boost for
every reblog call, Bluesky a new record for every createRecord).
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from app.actions import repository
from app.actions.states import move
from app.config import Settings
from app.db.base import utcnow
from app.db.session import transaction
from app.models import Action, ActionStatus
from app.pipeline import promotion
from app.pipeline.calls import Result, Subject, call_and_record
from app.pipeline.leases import claim
from app.pipeline.outcome import apply_failure, unsettled
from app.platforms.base import ActionClient, PostGone
from app.runtime import Runtime

log = logging.getLogger("reposter.reconcile")


async def reconcile(runtime: Runtime) -> int:
    """Settle `sending` rows nobody holds any more; returns how many were settled."""
    now = utcnow()
    async with transaction(runtime.sessions) as session:
        ids = await claim(session, Action, repository.in_flight(), order=[Action.id], limit=100,
                          owner=runtime.worker_id, now=now, seconds=runtime.settings.lease_seconds)
    settled = 0
    for action_id in ids:
        settled += await _settle(runtime, action_id)
    return settled


async def _settle(runtime: Runtime, action_id: int) -> int:
    """Ask the platform whether it has the action (calls.call_and_record), and record the answer."""

    async def call(client: ActionClient, subject: Subject) -> str | None:
        action = subject.action
        return await client.find_own(subject.post, action.kind, since=action.created_at)

    async def write(session: AsyncSession, result: Result[str | None]) -> int:
        _apply(result, runtime.settings)
        if result.action.status == ActionStatus.done:
            await promotion.plan_undo(session, result.action)
        log.info("reconciled", extra={"action_id": action_id, "status": result.action.status})
        return 1

    return await call_and_record(runtime, action_id, call, write, what="reconcile") or 0


def _apply(result: Result[str | None], settings: Settings) -> None:
    """Done if the platform has it; queued again if it has not; failed (asked again later) if it cannot tell."""
    action, found, error = result.action, result.value, result.error
    now = utcnow()
    if isinstance(error, PostGone):
        move(action, ActionStatus.skipped, reason="post no longer exists", error=str(error), next_attempt_at=None)
    elif error is not None:
        log.warning("reconcile: platform cannot tell", extra={"action_id": action.id, "error": str(error)})
        apply_failure(action, result.account, unsettled(error, str(error)), settings)
    elif found is not None:
        move(action, ActionStatus.done, sent_at=action.sent_at or now, error=None, next_attempt_at=None,
             platform_action_id=action.platform_action_id or found)
    else:
        # The platform says it is not there: the send never landed; send it.
        move(action, ActionStatus.queued, next_attempt_at=now, attempts=max(0, action.attempts - 1))
