"""After a crash: `sending` rows whose worker died are settled by asking the platform.

The platform is asked for this account's own repost, quote or like of the post (`find_own`):
there -> done; not there -> queued to be sent; cannot tell -> failed with the reason, and the
next try asks again before it sends (no kind is re-sent blind: GoToSocial makes a new boost for
every reblog call, Bluesky a new record for every createRecord).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from app.accounts.context import context_for
from app.db.base import utcnow
from app.db.session import transaction
from app.models import Account, Action, SeenPost
from app.pipeline.inbox import post_of
from app.pipeline.leases import Heartbeat, claim, hold, release
from app.pipeline.outcome import unknown_error
from app.platforms.base import OutcomeUnknown, PlatformError, PostGone
from app.platforms.registry import get_platform

log = logging.getLogger("reposter.reconcile")

UNKNOWN = object()  # the platform could not tell


async def reconcile(runtime) -> int:
    """Settle `sending` rows nobody holds any more; returns how many were settled."""
    now = utcnow()
    async with transaction(runtime.sessions) as session:
        ids = await claim(session, Action, Action.status == "sending", order=[Action.id], limit=100,
                          owner=runtime.worker_id, now=now, seconds=runtime.settings.lease_seconds)
    settled = 0
    for action_id in ids:
        settled += await _settle(runtime, action_id)
    return settled


async def _settle(runtime, action_id: int) -> int:
    async with transaction(runtime.sessions) as session:
        action = await session.get(Action, action_id)
        account = await session.get(Account, action.account_id)
        post = post_of(await session.get(SeenPost, action.seen_post_id))
    ctx = context_for(account, runtime.fernet, runtime.pending_credentials)
    client = get_platform(account.platform).action_client(ctx, runtime.http)
    error: Exception | None = None
    async with Heartbeat(runtime, Action, [action_id]):
        try:
            found = await client.find_own(post, action.kind, since=action.created_at)
        except PostGone as exc:
            found, error = None, exc
        except Exception as exc:  # noqa: BLE001 - cannot tell: the action waits and is asked about again
            log.warning("reconcile: platform cannot tell", extra={"action_id": action_id, "error": str(exc)})
            found, error = UNKNOWN, exc
    async with transaction(runtime.sessions) as session:
        if not await hold(session, Action, action_id, runtime.worker_id):
            log.warning("lease lost: reconcile not recorded", extra={"action_id": action_id, "worker": runtime.worker_id})
            return 0
        action = await session.get(Action, action_id)
        _apply(action, found, error, runtime.settings)
        await release(session, Action, [action_id], runtime.worker_id)
    log.info("reconciled", extra={"action_id": action_id, "status": action.status})
    return 1


def _apply(action: Action, found, error: Exception | None, settings) -> None:
    """Done if the platform has it; queued again if it has not; failed (asked again later) if unknown."""
    now = utcnow()
    if isinstance(error, PostGone):
        action.status, action.reason, action.error, action.next_attempt_at = "skipped", "post no longer exists", str(error), None
    elif found is UNKNOWN:
        unknown = error if isinstance(error, PlatformError) else OutcomeUnknown(str(error))
        final = action.attempts >= settings.max_attempts
        action.status, action.error = "failed", unknown_error(unknown, final)
        delay = timedelta(seconds=settings.retry_base_seconds * 2 ** max(0, action.attempts - 1))
        action.next_attempt_at = None if final else max(now + delay, getattr(error, "retry_at", None) or now)
    elif found is not None:
        action.status, action.sent_at, action.error = "done", action.sent_at or now, None
        action.platform_action_id = action.platform_action_id or found
        action.next_attempt_at = None
    else:
        # The platform says it is not there: the send never landed; send it.
        action.status, action.next_attempt_at = "queued", now
        action.attempts = max(0, action.attempts - 1)
