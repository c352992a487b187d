"""Undo: reposts asked to be undone (one by one, or all of a blocked author's) go out within limits.

The adapters remove every repost of ours they find (GoToSocial may hold several boosts of one
status). The lease is renewed while the call is out; the outcome is written only while it is ours.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from functools import partial

from sqlalchemy import and_, or_, select

from app.accounts.conditions import credentials_refused, record_rate_limit, send_blocked_until
from app.accounts.context import context_for
from app.audit import record
from app.db.base import utcnow
from app.db.session import transaction
from app.engine.limits import LimitSettings, earliest_send
from app.models import Account, Action, SeenPost
from app.pipeline.dispatcher import SENDS
from app.pipeline.fanout import Fanout, host_of, within
from app.pipeline.inbox import post_of
from app.pipeline.leases import Heartbeat, claim, hold, release
from app.pipeline.views import platform_windows, sent_times
from app.platforms.base import CredentialsInvalid, PlatformError, PostGone, RateLimited
from app.platforms.registry import get_platform

log = logging.getLogger("reposter.undo")


def undo_due(now):
    return and_(Action.status == "done", Action.undo_requested_at.is_not(None),
                or_(Action.next_attempt_at.is_(None), Action.next_attempt_at <= now))


async def undo_due_actions(runtime, fanout: Fanout | None = None, *, wait: float | None = None) -> int:
    """Carry out requested undos; returns how many were undone. Accounts are served concurrently
    (`fanout`, as sends: an account busy sending is left out), each one's undos in order."""
    fanout = fanout or Fanout.of(runtime.settings)
    now = utcnow()
    busy = fanout.busy(SENDS)
    async with transaction(runtime.sessions) as session:
        free_accounts = [Action.account_id.not_in(busy)] if busy else []
        ids = await claim(session, Action, undo_due(now), *free_accounts, order=[Action.undo_requested_at, Action.id],
                          limit=50, owner=runtime.worker_id, now=now, seconds=runtime.settings.lease_seconds)
        rows = await session.execute(select(Action.id, Account.id, Account.platform, Account.config)
                                     .join(Account, Account.id == Action.account_id).where(Action.id.in_(ids))
                                     .order_by(Action.undo_requested_at, Action.id))
        by_account: dict[int, tuple[str, list[int]]] = {}
        for action_id, account_id, platform, config in rows:
            by_account.setdefault(account_id, (host_of(platform, config), []))[1].append(action_id)
    jobs = {aid: (host, partial(_undo_account, runtime, mine)) for aid, (host, mine) in by_account.items()}
    return await fanout.round(SENDS, jobs, wait=wait)


async def _undo_account(runtime, action_ids: list[int]) -> int:
    """One account's undos, one after the other; after one that used up its budget the rest are
    given back for a later round (the server is not answering)."""
    done = 0
    for index, action_id in enumerate(action_ids):
        started = time.monotonic()
        done += await _undo_one(runtime, action_id)
        if time.monotonic() - started >= runtime.settings.send_budget_seconds and index + 1 < len(action_ids):
            async with transaction(runtime.sessions) as session:
                await release(session, Action, action_ids[index + 1 :], runtime.worker_id)
            break
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
        bucket = get_platform(account.platform).rate_bucket(f"undo:{action.kind}")
        held = send_blocked_until(account, now, bucket=bucket)
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
            await within(runtime.settings.send_budget_seconds, client.undo(post, action.platform_action_id, action.kind),
                         f"{account.platform}: undoing {action.kind} of {action.post_id}")
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
        record_rate_limit(account, bucket=error.bucket, until=error.retry_at, during="send")
    elif isinstance(error, CredentialsInvalid):
        action.next_attempt_at = now + timedelta(minutes=5)
        credentials_refused(account, error)
    elif isinstance(error, PlatformError) and error.retryable and action.undo_attempts < settings.max_attempts:
        action.next_attempt_at = now + timedelta(seconds=settings.retry_base_seconds * 2 ** (action.undo_attempts - 1))
    else:
        action.undo_requested_at, action.next_attempt_at = None, None
