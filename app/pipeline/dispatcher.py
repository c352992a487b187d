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

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.conditions import clear_rate_limits, needs_attention, send_blocked_until
from app.actions import repository
from app.actions.states import can_move, move
from app.config import Settings
from app.db.base import utcnow
from app.db.session import transaction
from app.engine.decide import stop_reason
from app.engine.limits import earliest_send
from app.models import Account, Action, ActionKind, ActionStatus, SeenPost
from app.pipeline import promotion
from app.pipeline.calls import Result, Subject, call_and_record
from app.pipeline.fanout import Fanout, host_of, within
from app.pipeline.inbox import post_of
from app.pipeline.leases import claim, hold, release
from app.pipeline.outcome import Outcome, apply_failure, render_quote, unsettled
from app.pipeline.views import account_view, limit_settings, sent_times
from app.platforms.base import ActionClient, OutcomeUnknown, PlatformError, PostGone
from app.platforms.registry import get_platform
from app.runtime import Runtime

log = logging.getLogger("reposter.dispatcher")

# The fanout stage of sends (dispatch and undo): an account never has two of its sends in flight.
SENDS = "send"

due = repository.due_to_send  # what the queue's health reads as "due"


async def dispatch_due(runtime: Runtime, fanout: Fanout | None = None, *, wait: float | None = None) -> int:
    """Send what is due; returns how many platform calls succeeded. Accounts are served
    concurrently (`fanout`), each one's actions in order; an account whose sends from an earlier
    round are still running is left out; `wait` as in Fanout.round."""
    fanout = fanout or Fanout.of(runtime.settings)
    tasks = await _start(runtime, fanout, limit=runtime.settings.dispatch_batch)
    return await fanout.collect(SENDS, tasks, wait=wait)


async def send_now(runtime: Runtime, fanout: Fanout, fresh: dict[int, int]) -> int:
    """The push path: claim and start sending these just-decided actions (action id -> account id)
    the usual way (claim, lease, checks, limits, call_and_record), without waiting for the calls.
    Those of an account still sending from an earlier round stay in `fresh` for a later look; the
    others leave it (sent now, or not due: over a limit they wait for the scheduled job). Returns
    how many accounts' sends were started."""
    busy = set(fanout.busy(SENDS))
    ready = [action_id for action_id, account_id in fresh.items() if account_id not in busy]
    if not ready:
        return 0
    for action_id in ready:
        del fresh[action_id]
    return len(await _start(runtime, fanout, Action.id.in_(ready), limit=len(ready)))


async def _start(runtime: Runtime, fanout: Fanout, *only: ColumnElement[bool], limit: int) -> list[asyncio.Task[int]]:
    """Claim due actions (of accounts not sending already) and start each account's sends; under the
    stage's lock, so that the scheduled job and the push path never start one account twice."""
    now = utcnow()
    async with fanout.claiming(SENDS):
        busy = fanout.busy(SENDS)
        async with transaction(runtime.sessions) as session:
            free_accounts = [Action.account_id.not_in(busy)] if busy else []
            ids = await claim(session, Action, due(now, runtime.settings.max_attempts), *only, *free_accounts,
                              order=[Action.id], limit=limit, owner=runtime.worker_id, now=now,
                              seconds=runtime.settings.lease_seconds)
            by_account: dict[int, tuple[str, list[int]]] = {}
            for action_id, account_id, platform, config in await repository.hosts_of(session, ids, Action.id):
                by_account.setdefault(account_id, (host_of(platform, config), []))[1].append(action_id)
        jobs: dict[int, tuple[str, Callable[[], Awaitable[int]]]] = {
            aid: (host, partial(_dispatch_account, runtime, aid, mine)) for aid, (host, mine) in by_account.items()}
        return fanout.start(SENDS, jobs)


async def _dispatch_account(runtime: Runtime, account_id: int, action_ids: list[int]) -> int:
    sent = 0
    # The account's view (blocks, filters...) and its recent sends, loaded once per batch: a block
    # that lands during these few seconds is still caught by the next batch's check.
    cache: dict[str, Any] = {}
    for index, action_id in enumerate(action_ids):
        started = time.monotonic()
        outcome = await _dispatch_one(runtime, action_id, cache)
        if outcome == Outcome.done:
            sent += 1
            cache["sent"].append(utcnow())
        if outcome == Outcome.hold:  # over a limit, rate limited or credentials: the rest wait too
            async with transaction(runtime.sessions) as session:
                until = (await session.get_one(Action, action_id)).next_attempt_at
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
    for action in await repository.in_ids(session, ids):
        if action.lease_owner == owner:  # a row whose lease ran out may be another worker's now
            action.next_attempt_at = max(filter(None, [action.next_attempt_at, until, utcnow()]))
    await release(session, Action, ids, owner)


async def _dispatch_one(runtime: Runtime, action_id: int, cache: dict[str, Any]) -> Outcome:
    """Check, then mark sending and commit, then call the platform and record the outcome."""
    async with transaction(runtime.sessions) as session:
        # Rows wait in the batch: one whose lease ran out meanwhile may be another worker's now.
        if not await hold(session, Action, action_id, runtime.worker_id, runtime.settings.lease_seconds):
            log.info("lease lost before sending", extra={"action_id": action_id, "worker": runtime.worker_id})
            return Outcome.lost
        action = await session.get_one(Action, action_id)
        account = await session.get_one(Account, action.account_id)
        verdict = await _precheck(session, action, account, cache)
        if verdict != Outcome.go:
            await release(session, Action, [action_id], runtime.worker_id)
            return verdict
        # A failed try may have reached the platform: ask before sending again.
        settle = action.status == ActionStatus.failed
        move(action, ActionStatus.sending, attempts=action.attempts + 1)
    return await _send(runtime, action_id, settle=settle)


async def _precheck(session: AsyncSession, action: Action, account: Account, cache: dict[str, Any]) -> Outcome:
    """Blocks, opt-outs, filters and queue age again (they may have changed while it waited), then limits."""
    now = utcnow()
    if not can_move(action.status, ActionStatus.sending):
        return Outcome.gone
    if not account.enabled or needs_attention(account):
        action.next_attempt_at = now + timedelta(minutes=5)
        return Outcome.hold
    held = send_blocked_until(account, now, bucket=get_platform(account.platform).rate_bucket(action.kind))
    if held:
        action.next_attempt_at = held
        return Outcome.hold
    waits_since = action.scheduled_at or action.created_at  # a rule's timing is not queue age
    if account.max_queue_age_seconds and waits_since + timedelta(seconds=account.max_queue_age_seconds) < now:
        waited = f"waited longer than max_queue_age ({account.max_queue_age_seconds} s)"
        move(action, ActionStatus.skipped, reason=waited)
        return Outcome.skipped
    post = post_of(await session.get_one(SeenPost, action.seen_post_id))
    if "view" not in cache:
        cache["view"] = await account_view(session, account, now)
        cache["sent"] = await sent_times(session, account.id, now)
    reason = stop_reason(post, cache["view"], now)
    if reason:
        move(action, ActionStatus.skipped, reason=reason, next_attempt_at=None)
        return Outcome.skipped
    slot = earliest_send(limit_settings(account, action.kind), cache["sent"], now)
    if slot > now:
        action.next_attempt_at = slot
        return Outcome.hold
    return Outcome.go


async def _send(runtime: Runtime, action_id: int, *, settle: bool = False) -> Outcome:
    """The platform call (calls.call_and_record: outside any transaction, the lease renewed, the
    outcome written only while the lease is still ours)."""
    budget = runtime.settings.send_budget_seconds

    async def call(client: ActionClient, subject: Subject) -> str:
        what = f"{subject.account.platform}: {subject.action.kind} of {subject.action.post_id}"
        return await _attempt(client, subject, settle, budget=budget, what=what)

    async def write(session: AsyncSession, result: Result[str]) -> Outcome:
        if result.error is None:
            outcome = _done(result.action, result.account, result.value)
            await promotion.plan_undo(session, result.action)
            return outcome
        return _failed(result.action, result.account, result.error, runtime.settings)

    return await call_and_record(runtime, action_id, call, write, what="send") or Outcome.lost


async def _attempt(client: ActionClient, subject: Subject, settle: bool, *, budget: float, what: str) -> str:
    """Ask first when an earlier try may have acted; send; settle at once a send that may have
    acted. Each call gets `budget` seconds (one that takes longer may have acted: OutcomeUnknown).
    Returns the platform's id of what was done; raises what stopped it."""
    action, post = subject.action, subject.post
    if settle:
        try:
            found = await within(budget, client.find_own(post, action.kind, since=action.created_at), what)
        except PostGone:
            raise
        except Exception as exc:  # cannot tell: wait and ask again, never send blind
            raise unsettled(exc, f"could not ask the platform whether an earlier try acted ({exc})") from exc
        if found is not None:
            log.info("settled: already on the platform", extra={"action_id": action.id, "kind": action.kind})
            return found
    try:
        return await within(budget, _call(client, subject), what)
    except OutcomeUnknown as exc:
        unknown = exc
    try:  # the platform may have acted: most often it did, and the action is done now
        found = await within(budget, client.find_own(post, action.kind, since=action.created_at), what)
    except Exception as exc:  # noqa: BLE001 - still unknown; the next try asks again
        log.info("settle failed", extra={"action_id": action.id, "error": str(exc)})
        found = None
    if found is not None:
        log.info("settled: the platform acted", extra={"action_id": action.id, "kind": action.kind})
        return found
    raise unknown


def _done(action: Action, account: Account, platform_id: str | None) -> Outcome:
    now = utcnow()
    move(action, ActionStatus.done, platform_action_id=platform_id, sent_at=now, error=None, next_attempt_at=None)
    account.last_sent_at = now
    clear_rate_limits(account, bucket=get_platform(account.platform).rate_bucket(action.kind), now=now)
    log.info("sent", extra={"account_id": account.id, "action_id": action.id, "post_id": action.post_id,
                            "kind": action.kind})
    return Outcome.done


def _failed(action: Action, account: Account, error: Exception, settings: Settings) -> Outcome:
    if isinstance(error, PostGone):
        move(action, ActionStatus.skipped, reason="post no longer exists", error=str(error), next_attempt_at=None)
        return Outcome.skipped
    if not isinstance(error, PlatformError):
        log.error("adapter error", exc_info=error, extra={"action_id": action.id})
        error = PlatformError(f"{type(error).__name__}: {error}")
    log.warning("send failed", extra={"account_id": account.id, "action_id": action.id, "error": str(error)})
    return apply_failure(action, account, error, settings)


async def _call(client: ActionClient, subject: Subject) -> str:
    action, post, rule = subject.action, subject.post, subject.rule
    if action.kind == ActionKind.quote:
        return await client.quote(post, render_quote(rule.quote_template if rule else None, post, rule))
    if action.kind == ActionKind.like:
        return await client.like(post)
    return await client.repost(post)
