"""The dispatcher: due actions -> checks again -> limits -> the platform, recording every outcome.

An action is marked `sending` and committed before the platform is called, so a crash leaves a
`sending` row that `reconcile` settles by asking the platform; the unique (account, post, kind)
row means a post is never decided twice whatever happens.

Nothing is sent twice by us: a call that may have reached the platform (OutcomeUnknown) is
settled at once by asking the platform (`find_own`); if that cannot tell, the action is `failed`
and its next try asks again before sending. Every `failed` action is asked about before it is
sent again. The worker's lease is renewed while the call is out (`Heartbeat`), and the outcome
is written only while the lease is still ours.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.conditions import clear_rate_limits, needs_attention, send_blocked_until
from app.accounts.context import context_for
from app.db.base import utcnow
from app.db.session import transaction
from app.engine.decide import stop_reason
from app.engine.limits import earliest_send
from app.models import Account, Action, Rule, SeenPost
from app.pipeline.fanout import Fanout, host_of, within
from app.pipeline.inbox import post_of
from app.pipeline.leases import Heartbeat, claim, hold, release
from app.pipeline.views import account_view, limit_settings, sent_times
from app.pipeline.outcome import apply_failure, render_quote
from app.platforms.base import OutcomeUnknown, PlatformError, PostGone
from app.platforms.registry import get_platform

log = logging.getLogger("reposter.dispatcher")

# The fanout stage of sends (dispatch and undo): an account never has two of its sends in flight.
SENDS = "send"


def due(now: datetime, max_attempts: int):
    """Queued rows whose time has come, and failed rows due for another try."""
    return or_(
        and_(Action.status == "queued", or_(Action.next_attempt_at.is_(None), Action.next_attempt_at <= now)),
        and_(Action.status == "failed", Action.next_attempt_at <= now, Action.attempts < max_attempts),
    )


async def dispatch_due(runtime, fanout: Fanout | None = None, *, wait: float | None = None) -> int:
    """Send what is due; returns how many platform calls succeeded. Accounts are served
    concurrently (`fanout`), each one's actions in order; an account whose sends from an earlier
    round are still running is left out; `wait` as in Fanout.round."""
    fanout = fanout or Fanout.of(runtime.settings)
    now = utcnow()
    busy = fanout.busy(SENDS)
    async with transaction(runtime.sessions) as session:
        free_accounts = [Action.account_id.not_in(busy)] if busy else []
        ids = await claim(session, Action, due(now, runtime.settings.max_attempts), *free_accounts, order=[Action.id],
                          limit=runtime.settings.dispatch_batch, owner=runtime.worker_id, now=now,
                          seconds=runtime.settings.lease_seconds)
        rows = await session.execute(select(Action.id, Account.id, Account.platform, Account.config)
                                     .join(Account, Account.id == Action.account_id)
                                     .where(Action.id.in_(ids)).order_by(Action.id))
        by_account: dict[int, tuple[str, list[int]]] = {}
        for action_id, account_id, platform, config in rows:
            by_account.setdefault(account_id, (host_of(platform, config), []))[1].append(action_id)
    jobs = {aid: (host, partial(_dispatch_account, runtime, aid, mine)) for aid, (host, mine) in by_account.items()}
    return await fanout.round(SENDS, jobs, wait=wait)


async def _dispatch_account(runtime, account_id: int, action_ids: list[int]) -> int:
    sent = 0
    # The account's view (blocks, filters...) and its recent sends, loaded once per batch: a block
    # that lands during these few seconds is still caught by the next batch's check.
    cache: dict = {}
    for index, action_id in enumerate(action_ids):
        started = time.monotonic()
        outcome = await _dispatch_one(runtime, action_id, cache)
        sent += outcome == "done"
        if outcome == "done":
            cache["sent"].append(utcnow())
        if outcome == "hold":  # over a limit, rate limited or credentials: the rest wait too
            async with transaction(runtime.sessions) as session:
                until = (await session.get(Action, action_id)).next_attempt_at
                await _hold_rest(session, action_ids[index + 1 :], until, runtime.worker_id)
            break
        if time.monotonic() - started >= runtime.settings.send_budget_seconds:
            # A send that used up its budget: the server is not answering. The rest are given
            # back for a later round rather than each waiting a budget while their leases run out.
            async with transaction(runtime.sessions) as session:
                await _hold_rest(session, action_ids[index + 1 :], None, runtime.worker_id)
            break
    return sent


async def _hold_rest(session: AsyncSession, ids: list[int], until: datetime | None, owner: str) -> None:
    """Give back the account's remaining claimed rows, due no earlier than the held one."""
    for action in (await session.scalars(select(Action).where(Action.id.in_(ids)))).all():
        if action.lease_owner == owner:  # a row whose lease ran out may be another worker's now
            action.next_attempt_at = max(filter(None, [action.next_attempt_at, until, utcnow()]))
    await release(session, Action, ids, owner)


async def _dispatch_one(runtime, action_id: int, cache: dict) -> str:
    """Check, then mark sending and commit, then call the platform and record the outcome."""
    async with transaction(runtime.sessions) as session:
        # Rows wait in the batch: one whose lease ran out meanwhile may be another worker's now.
        if not await hold(session, Action, action_id, runtime.worker_id, runtime.settings.lease_seconds):
            log.info("lease lost before sending", extra={"action_id": action_id, "worker": runtime.worker_id})
            return "lost"
        action = await session.get(Action, action_id)
        account = await session.get(Account, action.account_id)
        verdict = await _precheck(session, action, account, cache)
        if verdict != "go":
            await release(session, Action, [action_id], runtime.worker_id)
            return verdict
        # A failed try may have reached the platform: ask before sending again.
        settle = action.status == "failed"
        action.status, action.attempts = "sending", action.attempts + 1
    return await _send(runtime, action_id, settle=settle)


async def _precheck(session: AsyncSession, action: Action, account: Account, cache: dict) -> str:
    """Blocks, opt-outs, filters and queue age again (they may have changed while it waited), then limits."""
    now = utcnow()
    if action.status not in ("queued", "failed"):
        return "gone"
    if not account.enabled or needs_attention(account):
        action.next_attempt_at = now + timedelta(minutes=5)
        return "hold"
    held = send_blocked_until(account, now, bucket=get_platform(account.platform).rate_bucket(action.kind))
    if held:
        action.next_attempt_at = held
        return "hold"
    if account.max_queue_age_seconds and action.created_at + timedelta(seconds=account.max_queue_age_seconds) < now:
        action.status, action.reason = "skipped", f"waited longer than max_queue_age ({account.max_queue_age_seconds} s)"
        return "skipped"
    post = post_of(await session.get(SeenPost, action.seen_post_id))
    if "view" not in cache:
        cache["view"] = await account_view(session, account, now)
        cache["sent"] = await sent_times(session, account.id, now)
    reason = stop_reason(post, cache["view"], now)
    if reason:
        action.status, action.reason, action.next_attempt_at = "skipped", reason, None
        return "skipped"
    slot = earliest_send(limit_settings(account, action.kind), cache["sent"], now)
    if slot > now:
        action.next_attempt_at = slot
        return "hold"
    return "go"


async def _send(runtime, action_id: int, *, settle: bool = False) -> str:
    """The platform call, outside any transaction, with the lease renewed meanwhile; its outcome
    is written in a new transaction, only if the lease is still ours."""
    async with transaction(runtime.sessions) as session:
        action = await session.get(Action, action_id)
        account = await session.get(Account, action.account_id)
        post = post_of(await session.get(SeenPost, action.seen_post_id))
        rule = await session.get(Rule, action.rule_id) if action.rule_id else None
    ctx = context_for(account, runtime.fernet, runtime.pending_credentials)
    client = get_platform(account.platform).action_client(ctx, runtime.http)
    async with Heartbeat(runtime, Action, [action_id]):
        platform_id, error = await _attempt(client, action, post, rule, settle, budget=runtime.settings.send_budget_seconds,
                                            what=f"{account.platform}: {action.kind} of {action.post_id}")
    async with transaction(runtime.sessions) as session:
        if not await hold(session, Action, action_id, runtime.worker_id):
            # Another worker holds the row now and settles it by asking the platform; the
            # credentials a refresh gave stay pending, saved after the stage.
            log.warning("lease lost: outcome not recorded", extra={
                "action_id": action_id, "worker": runtime.worker_id,
                "outcome": "done" if error is None else f"{type(error).__name__}: {error}"})
            return "lost"
        fresh_action = await session.get(Action, action_id)
        fresh_account = await session.get(Account, account.id)
        if account.id in runtime.pending_credentials:  # the adapter refreshed its tokens meanwhile
            fresh_account.credentials_encrypted = runtime.pending_credentials.pop(account.id)
        await release(session, Action, [action_id], runtime.worker_id)
        if error is None:
            return _done(fresh_action, fresh_account, platform_id)
        return _failed(fresh_action, fresh_account, error, runtime.settings)


async def _attempt(client, action: Action, post, rule: Rule | None, settle: bool, *, budget: float,
                   what: str) -> tuple[str | None, Exception | None]:
    """Ask first when an earlier try may have acted; send; settle at once a send that may have
    acted. Each call gets `budget` seconds (one that takes longer may have acted: OutcomeUnknown).
    Returns (platform id, None) or (None, the error)."""
    if settle:
        try:
            found = await within(budget, client.find_own(post, action.kind, since=action.created_at), what)
        except PostGone as exc:
            return None, exc
        except Exception as exc:  # noqa: BLE001 - cannot tell: wait and ask again, never send blind
            return None, _unsettled(exc)
        if found is not None:
            log.info("settled: already on the platform", extra={"action_id": action.id, "kind": action.kind})
            return found, None
    try:
        return await within(budget, _call(client, action, post, rule), what), None
    except OutcomeUnknown as exc:
        unknown = exc
    except Exception as exc:  # noqa: BLE001 - recorded by the caller; an adapter bug must not stop the queue
        return None, exc
    try:  # the platform may have acted: most often it did, and the action is done now
        found = await within(budget, client.find_own(post, action.kind, since=action.created_at), what)
    except Exception as exc:  # noqa: BLE001 - still unknown; the next try asks again
        log.info("settle failed", extra={"action_id": action.id, "error": str(exc)})
        found = None
    if found is not None:
        log.info("settled: the platform acted", extra={"action_id": action.id, "kind": action.kind})
        return found, None
    return None, unknown


def _unsettled(exc: Exception) -> OutcomeUnknown:
    """Why an action that may be on the platform cannot be sent again yet."""
    if isinstance(exc, OutcomeUnknown):
        return exc
    unknown = OutcomeUnknown(f"could not ask the platform whether an earlier try acted ({exc})")
    unknown.retry_at = getattr(exc, "retry_at", None)
    return unknown


def _done(action: Action, account: Account, platform_id: str) -> str:
    now = utcnow()
    action.status, action.platform_action_id, action.sent_at, action.error = "done", platform_id, now, None
    action.next_attempt_at, account.last_sent_at = None, now
    clear_rate_limits(account, bucket=get_platform(account.platform).rate_bucket(action.kind), now=now)
    log.info("sent", extra={"account_id": account.id, "action_id": action.id, "post_id": action.post_id,
                            "kind": action.kind})
    return "done"


def _failed(action: Action, account: Account, error: Exception, settings) -> str:
    if isinstance(error, PostGone):
        action.status, action.reason, action.error, action.next_attempt_at = "skipped", "post no longer exists", str(error), None
        return "skipped"
    if not isinstance(error, PlatformError):
        log.error("adapter error", exc_info=error, extra={"action_id": action.id})
        error = PlatformError(f"{type(error).__name__}: {error}")
    log.warning("send failed", extra={"account_id": account.id, "action_id": action.id, "error": str(error)})
    return apply_failure(action, account, error, settings)


async def _call(client, action: Action, post, rule: Rule | None) -> str:
    if action.kind == "quote":
        return await client.quote(post, render_quote(rule.quote_template if rule else None, post, rule))
    if action.kind == "like":
        return await client.like(post)
    return await client.repost(post)
