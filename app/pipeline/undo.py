"""Undo: reposts asked to be undone (one by one, or all of a blocked author's) go out within limits.

The adapters remove every repost of ours they find (GoToSocial may hold several boosts of one
status). The lease is renewed while the call is out; the outcome is written only while it is ours.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import and_, or_

from app.accounts.conditions import SEND_BUCKET, Severity, send_blocked_until, set_condition
from app.accounts.context import context_for
from app.audit import record
from app.db.base import utcnow
from app.db.session import transaction
from app.engine.limits import LimitSettings, earliest_send
from app.models import Account, Action, SeenPost
from app.pipeline.inbox import post_of
from app.pipeline.leases import Heartbeat, claim, hold, release
from app.pipeline.views import platform_windows, sent_times
from app.platforms.base import CredentialsInvalid, PlatformError, PostGone, RateLimited
from app.platforms.registry import get_platform

log = logging.getLogger("reposter.undo")


def undo_due(now):
    return and_(Action.status == "done", Action.undo_requested_at.is_not(None),
                or_(Action.next_attempt_at.is_(None), Action.next_attempt_at <= now))


async def undo_due_actions(runtime) -> int:
    """Carry out requested undos; returns how many were undone."""
    now = utcnow()
    async with transaction(runtime.sessions) as session:
        ids = await claim(session, Action, undo_due(now), order=[Action.undo_requested_at, Action.id], limit=50,
                          owner=runtime.worker_id, now=now, seconds=runtime.settings.lease_seconds)
    done = 0
    for action_id in ids:
        done += await _undo_one(runtime, action_id)
    return done


async def _undo_one(runtime, action_id: int) -> int:
    now = utcnow()
    async with transaction(runtime.sessions) as session:
        if not await hold(session, Action, action_id, runtime.worker_id, runtime.settings.lease_seconds):
            log.info("lease lost before undoing", extra={"action_id": action_id, "worker": runtime.worker_id})
            return 0
        action = await session.get(Action, action_id)
        account = await session.get(Account, action.account_id)
        slot = earliest_send(LimitSettings(windows=platform_windows(account, "undo")),
                             await sent_times(session, account.id, now, undo=True), now)
        held = send_blocked_until(account, now)
        if slot > now or held:
            action.next_attempt_at = max(slot, held or slot)
            await release(session, Action, [action_id], runtime.worker_id)
            return 0
        post = post_of(await session.get(SeenPost, action.seen_post_id))
    ctx = context_for(account, runtime.fernet, runtime.pending_credentials)
    client = get_platform(account.platform).action_client(ctx, runtime.http)
    error: Exception | None = None
    async with Heartbeat(runtime, Action, [action_id]):
        try:
            await client.undo(post, action.platform_action_id, action.kind)
        except Exception as exc:  # noqa: BLE001 - recorded on the action
            error = exc
    async with transaction(runtime.sessions) as session:
        if not await hold(session, Action, action_id, runtime.worker_id):
            log.warning("lease lost: undo not recorded", extra={"action_id": action_id, "worker": runtime.worker_id})
            return 0
        action = await session.get(Action, action_id)
        await release(session, Action, [action_id], runtime.worker_id)
        return await _record(session, action, error, runtime)


async def _record(session, action: Action, error: Exception | None, runtime) -> int:
    if error is None or isinstance(error, PostGone):
        action.status, action.undone_at, action.next_attempt_at = "undone", utcnow(), None
        action.error = "already removed on the platform" if error else None
        await record(session, None, "action.undone", target_type="action", target_id=action.id,
                     account_id=action.account_id, detail={"post_id": action.post_id, "by": action.decided_by})
        return 1
    account = await session.get(Account, action.account_id)
    _undo_failed(action, account, error, runtime.settings)
    return 0


def _undo_failed(action: Action, account: Account, error: Exception, settings) -> None:
    """Wait as told, retry with backoff, or give up (the repost stays `done`, the error says why)."""
    now = utcnow()
    action.undo_attempts += 1
    action.error = f"undo failed: {error}"
    log.warning("undo failed", extra={"action_id": action.id, "error": str(error)})
    if isinstance(error, RateLimited):
        action.next_attempt_at = error.retry_at
        set_condition(account, f"rate_limited:{SEND_BUCKET}", severity=Severity.limit, http_status=429,
                      message=f"undos rate limited until {error.retry_at.isoformat()}", until=error.retry_at)
    elif isinstance(error, CredentialsInvalid):
        action.next_attempt_at = now + timedelta(minutes=5)
        set_condition(account, "credentials", severity=Severity.attention, message=str(error), http_status=error.status)
    elif isinstance(error, PlatformError) and error.retryable and action.undo_attempts < settings.max_attempts:
        action.next_attempt_at = now + timedelta(seconds=settings.retry_base_seconds * 2 ** (action.undo_attempts - 1))
    else:
        action.undo_requested_at, action.next_attempt_at = None, None
