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
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository as accounts_repository
from app.accounts.conditions import clear_rate_limits, needs_attention, send_blocked_until
from app.actions import repository
from app.actions.states import can_move, move
from app.config import Settings
from app.db.base import utcnow
from app.db.session import transaction
from app.engine.decide import stop_reason
from app.engine.limits import earliest_send
from app.engine.view import AccountView
from app.models import Account, Action, ActionKind, ActionStatus, SeenPost
from app.pipeline import promotion
from app.pipeline import repository as pipeline_repository
from app.pipeline.calls import Subject, client_for, reply_text
from app.pipeline.fanout import Fanout, host_of, within
from app.pipeline.inbox import post_of
from app.pipeline.leases import claim, held, release, renew
from app.pipeline.outcome import Outcome, apply_failure, render_quote, unsettled
from app.pipeline.views import account_views, fill_author_pds, limit_settings
from app.platforms.base import (
    ActionClient,
    CredentialsInvalid,
    OutcomeUnknown,
    PlatformError,
    Post,
    PostGone,
    RateLimited,
)
from app.platforms.registry import get_platform
from app.runtime import Runtime

log = logging.getLogger("reposter.dispatcher")

# The fanout stage of sends (dispatch and undo): an account never has two of its sends in flight.
SENDS = "send"

due = repository.due_to_send  # what the queue's health reads as "due"


async def dispatch_due(runtime: Runtime, fanout: Fanout | None = None, *, wait: float | None = None) -> int:
    """Send what is due; returns how many platform calls succeeded. Accounts are served
    concurrently (`fanout`), each one's actions in order; an account whose sends from an earlier
    round are still running is left out. While more is due, the worker's sends are kept topped
    up: as accounts finish, more due actions are claimed, so that up to `dispatch_batch` actions
    are in hand at once (the rest stay in the queue for other workers), until nothing more is due
    or `wait` seconds have passed (None: until the queue is empty); the calls still running then
    go on in the background, as in Fanout.round."""
    fanout = fanout or Fanout.of(runtime.settings)
    batch = runtime.settings.dispatch_batch
    deadline = None if wait is None else time.monotonic() + wait
    in_hand: dict[asyncio.Task[int], int] = {}  # each account's task -> how many actions it holds
    tasks: list[asyncio.Task[int]] = []
    while not fanout.closing:
        for task in [t for t in in_hand if t.done()]:
            del in_hand[task]
        room = batch - sum(in_hand.values())
        if room > 0:
            started = await _start(runtime, fanout, limit=room)
            tasks += started.tasks
            in_hand.update(started.sizes)
            if started.claimed < room:  # nothing more is due now (or only for accounts still sending)
                break
        # claim again once half the batch is done: rounds stay large (their database work is
        # per round, not per action) and the calls never run dry
        while in_hand and sum(in_hand.values()) > batch // 2:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                break
            done, _ = await asyncio.wait(in_hand, timeout=left, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                del in_hand[task]
        if deadline is not None and deadline <= time.monotonic():
            break
    left = None if deadline is None else max(0.0, deadline - time.monotonic())
    return await fanout.collect(SENDS, tasks, wait=left)


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
    return len((await _start(runtime, fanout, Action.id.in_(ready), limit=len(ready))).tasks)


@dataclass(frozen=True)
class _Started:
    """A round just started: its accounts' tasks, how many actions it claimed, and how many each
    account's task has in hand (those that went `sending`)."""

    tasks: list[asyncio.Task[int]]
    claimed: int
    sizes: dict[asyncio.Task[int], int]


async def _start(runtime: Runtime, fanout: Fanout, *only: ColumnElement[bool], limit: int) -> _Started:
    """Claim due actions (of accounts not sending already), check them and mark those that go
    `sending`, all in one transaction, then start each account's sends; under the stage's lock,
    so that the scheduled job and the push path never start one account twice."""
    if fanout.closing:  # shutting down: nothing new is claimed (what is claimed must be started)
        return _Started([], 0, {})
    now = utcnow()
    async with fanout.claiming(SENDS):
        busy = fanout.busy(SENDS)
        async with transaction(runtime.sessions) as session:
            free_accounts = [Action.account_id.not_in(busy)] if busy else []
            ids = await claim(session, Action, due(now, runtime.settings.max_attempts), *only, *free_accounts,
                              order=[Action.id], limit=limit, owner=runtime.worker_id, now=now,
                              seconds=runtime.settings.lease_seconds)
            plan = await _prepare(session, runtime, ids, now) if ids else {}
        if not plan:
            return _Started([], len(ids), {})
        sends = _Round(runtime, fanout, plan)
        jobs: dict[int, tuple[str, Callable[[], Awaitable[int]]]] = {
            aid: (host_of(go[0].subject.account.platform, go[0].subject.account.config),
                  partial(sends.account, aid)) for aid, go in plan.items()}
        tasks = fanout.start(SENDS, jobs)
        sends.watch(tasks)
        sizes = {task: len(plan[account_id]) for task, account_id in zip(tasks, jobs, strict=False)}
        return _Started(tasks, len(ids), sizes)


@dataclass(frozen=True)
class _Go:
    """An action checked and marked `sending`, with what its call needs; `settle`: an earlier try
    may have acted, so the platform is asked before anything is sent."""

    subject: Subject
    settle: bool


async def _prepare(session: AsyncSession, runtime: Runtime, ids: list[int], now: datetime) -> dict[int, list[_Go]]:
    """Check the claimed actions again (a few queries for the whole round: their accounts, posts,
    rules, the accounts' views and recent sends), each account's in order; mark those that may go
    `sending` (committed by the caller before any call is made) and give the others back, told when
    to come again. Returns the actions to send, by account, in order."""
    actions, accounts, posts, rules = await repository.subjects(session, ids)
    views = await account_views(session, list(accounts.values()), now)
    # PDS blocks: the hosts known of the authors (the matcher had them looked up before queueing)
    if any(view.blocked_pds for view in views.values()):
        await fill_author_pds(session, [views[a.account_id] for a in actions], _authors(actions, posts), now)
    sent = await pipeline_repository.acted_since_by_account(session, account_ids=list(accounts),
                                                             since=now - timedelta(days=1))
    plan: dict[int, list[_Go]] = {}
    stopped: dict[int, datetime | None] = {}  # accounts held by an earlier action: the rest wait too
    for action in actions:
        account = accounts[action.account_id]
        if account.id in stopped:
            until = stopped[account.id]
            action.next_attempt_at = max(filter(None, [action.next_attempt_at, until, now]))
            continue
        post = posts[action.seen_post_id]
        verdict = _precheck(action, account, post_of(post), views[account.id], sent[account.id], now)
        if verdict == Outcome.hold:
            stopped[account.id] = action.next_attempt_at
        if verdict != Outcome.go:
            continue
        settle = action.status == ActionStatus.failed  # a failed try may have reached the platform
        move(action, ActionStatus.sending, attempts=action.attempts + 1)
        sent[account.id].append(now)  # the next of its actions counts this one against the limits
        rule = rules.get(action.rule_id) if action.rule_id else None
        plan.setdefault(account.id, []).append(_Go(Subject(action, account, post_of(post), rule), settle))
    going = {go.subject.action.id for gos in plan.values() for go in gos}
    await release(session, Action, [i for i in ids if i not in going], runtime.worker_id)
    return plan


def _authors(actions: list[Action], posts: dict[int, SeenPost]) -> set[str]:
    """The ids of the claimed posts' authors (and reposted authors), read from the stored posts."""
    found: set[str] = set()
    for action in actions:
        data = posts[action.seen_post_id].data or {}
        found.update(str(a["id"]) for a in (data.get("author"), data.get("reposted_author"))
                     if isinstance(a, dict) and a.get("id"))
    return found


def _precheck(action: Action, account: Account, post: Post, view: AccountView, sent: list[datetime],
              now: datetime) -> Outcome:
    """Blocks, opt-outs, filters and queue age again (they may have changed while it waited), then limits."""
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
    # A reply (app/moderation/stop.py) answers an author who has just opted out: their opt-out is why it
    # goes, so blocks, opt-outs and filters are not asked; the account's state and limits still hold it.
    reason = stop_reason(post, view, now) if action.kind != ActionKind.reply else None
    if reason:
        move(action, ActionStatus.skipped, reason=reason, next_attempt_at=None)
        return Outcome.skipped
    slot = earliest_send(limit_settings(account, action.kind), sent, now)
    if slot > now:
        action.next_attempt_at = slot
        return Outcome.hold
    return Outcome.go


class _Round:
    """One round of sends: each account's actions in order (a task each, run by the fanout), one
    lease renewal for the whole round, and the outcomes written together (`_Recorder`)."""

    def __init__(self, runtime: Runtime, fanout: Fanout, plan: dict[int, list[_Go]]) -> None:
        self.runtime, self.fanout, self.plan = runtime, fanout, plan
        self.recorder = _Recorder(runtime)
        # the round's rows still in hand: renewed together until each is recorded or given back
        self.in_hand = {go.subject.action.id for gos in plan.values() for go in gos}

    def watch(self, tasks: list[asyncio.Task[int]]) -> None:
        """Renew the leases of the round's rows in hand until its tasks have all ended."""
        if tasks:
            beat = asyncio.create_task(self._beat(tasks), name="send-round-leases")
            _BEATS.add(beat)
            beat.add_done_callback(_BEATS.discard)

    async def _beat(self, tasks: list[asyncio.Task[int]]) -> None:
        every = max(0.05, self.runtime.settings.lease_seconds / 3)
        pending = set(tasks)
        while True:
            _done, pending = await asyncio.wait(pending, timeout=every)
            if not pending or not self.in_hand:
                return
            try:
                async with transaction(self.runtime.sessions) as session:
                    taken = await renew(session, Action, sorted(self.in_hand), self.runtime.worker_id,
                                        self.runtime.settings.lease_seconds)
            except Exception as exc:  # noqa: BLE001 - the database may be restarting; try again
                log.warning("lease renewal failed", extra={"table": "actions", "error": str(exc)})
                continue
            if taken:  # those are another worker's now: their outcome will not be recorded here
                log.warning("lease lost", extra={"table": "actions", "owner": self.runtime.worker_id,
                                                 "ids": sorted(taken)})
                self.in_hand.difference_update(taken)

    async def account(self, account_id: int) -> int:
        """Send the account's actions in order; stop at a hold (the rest wait as told) or at a call
        that used up its budget (the rest are given back for a later round)."""
        gos = self.plan[account_id]
        budget = self.runtime.settings.send_budget_seconds
        client = client_for(self.runtime, gos[0].subject.account)
        writes: list[asyncio.Future[Written]] = []  # outcomes written (or being written), in order
        try:
            for index, go in enumerate(gos):
                if self.fanout.closing:  # shutting down: what was not called yet goes back to the queue
                    await self._give_back([g.subject.action.id for g in gos[index:]], None)
                    break
                started = time.monotonic()
                action = go.subject.action
                what = f"{go.subject.account.platform}: {action.kind} of {action.post_id}"
                value: str | None = None
                error: Exception | None = None
                try:
                    value = await _attempt(client, go.subject, go.settle, budget=budget, what=what)
                except Exception as exc:  # noqa: BLE001 - recorded on the action; an adapter bug must not stop the queue
                    error = exc
                write = self.recorder.record(action.id, value, error)
                write.add_done_callback(partial(self._written, action.id))
                writes.append(write)
                rest = [g.subject.action.id for g in gos[index + 1:]]
                if not rest:
                    break
                if _holds(error):  # rate limited or credentials: the rest wait too, told until when
                    _outcome, until = await write
                    await self._give_back(rest, until)
                    break
                # Any other outcome lets the next call go at once: every row of the round is already
                # `sending` and committed, so the write may follow (a crash before it leaves `sending`
                # rows that reconcile settles by asking the platform, as for a crash during a call).
                if time.monotonic() - started >= budget:
                    # A send that used up its budget: the server is not answering. The rest are given
                    # back for a later round rather than each waiting a budget while their leases run out.
                    await self._give_back(rest, None)
                    break
            outcomes = await asyncio.gather(*writes)
        finally:
            self.in_hand.difference_update(g.subject.action.id for g in gos)
        return sum(outcome == Outcome.done for outcome, _until in outcomes)

    def _written(self, action_id: int, _write: asyncio.Future[Written]) -> None:
        """An outcome is written (or its write failed): its lease is no longer renewed by the round."""
        self.in_hand.discard(action_id)

    async def _give_back(self, ids: list[int], until: datetime | None) -> None:
        """Back to the queue, never called: `sending` -> `queued` (the try not counted), due no
        earlier than `until`, leases given back (those still ours)."""
        async with transaction(self.runtime.sessions) as session:
            ours = await held(session, Action, ids, self.runtime.worker_id)
            now = utcnow()
            for action in await repository.in_ids(session, sorted(ours)):
                if action.status == ActionStatus.sending:
                    move(action, ActionStatus.queued, attempts=max(0, action.attempts - 1),
                         next_attempt_at=max(filter(None, [action.next_attempt_at, until, now])))
            await release(session, Action, sorted(ours), self.runtime.worker_id)
        self.in_hand.difference_update(ids)


# The rounds' lease renewals running (kept referenced until they end).
_BEATS: set[asyncio.Task[None]] = set()


# A call's outcome as written: what became of the action, and for a hold when it may go again.
Written = tuple[Outcome, datetime | None]
# One call's result waiting to be written: action id, the platform's id of what it did, the error.
Pending = tuple[int, str | None, Exception | None, "asyncio.Future[Written]"]


class _Recorder:
    """Writes send outcomes, many in one transaction: while one write is under way the next
    outcomes gather, and the next write takes them all (a group commit: no waiting added when idle).
    Each outcome is written only while the row's lease is still ours, as `calls.call_and_record`
    does for one."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.waiting: list[Pending] = []
        self.writer: asyncio.Task[None] | None = None

    def record(self, action_id: int, value: str | None, error: Exception | None) -> asyncio.Future[Written]:
        """Have one call's outcome written (with the others waiting); resolves to the outcome, and for
        a hold its next time, once it is committed."""
        future: asyncio.Future[Written] = asyncio.get_running_loop().create_future()
        self.waiting.append((action_id, value, error, future))
        if self.writer is None or self.writer.done():
            self.writer = asyncio.create_task(self._write_all(), name="send-outcomes")
        return future

    async def _write_all(self) -> None:
        while self.waiting:
            batch, self.waiting = self.waiting, []
            try:
                outcomes = await self._write(batch)
            except BaseException as exc:
                for *_, future in batch:
                    if not future.done():
                        future.set_exception(exc if isinstance(exc, Exception) else RuntimeError("cancelled"))
                if not isinstance(exc, Exception):
                    raise
                continue
            for (*_, future), outcome in zip(batch, outcomes, strict=True):
                if not future.done():
                    future.set_result(outcome)

    async def _write(self, batch: list[Pending]) -> list[Written]:
        runtime = self.runtime
        ids = [item[0] for item in batch]
        outcomes: list[Written] = []
        sent: list[Action] = []
        async with transaction(runtime.sessions) as session:
            ours = await held(session, Action, ids, runtime.worker_id)
            actions = {a.id: a for a in await repository.in_ids(session, sorted(ours))}
            accounts = {a.id: a for a in await accounts_repository.visible(
                session, sorted({a.account_id for a in actions.values()}))}
            for action_id, value, error, _future in batch:
                action = actions.get(action_id)
                if action is None:
                    outcome = "answered" if error is None else f"{type(error).__name__}: {error}"
                    log.warning("lease lost: outcome not recorded", extra={
                        "action_id": action_id, "worker": runtime.worker_id, "call": "send", "outcome": outcome})
                    outcomes.append((Outcome.lost, None))
                    continue
                account = accounts[action.account_id]
                if account.id in runtime.pending_credentials:  # the adapter refreshed its tokens meanwhile
                    account.credentials_encrypted = runtime.pending_credentials.pop(account.id)
                done = _done(action, account, value) if error is None else _failed(action, account, error,
                                                                                   runtime.settings)
                outcomes.append((done, action.next_attempt_at))
                if done == Outcome.done:
                    sent.append(action)
            await promotion.plan_undos(session, sent)  # when a rule's promotion window ends
            await release(session, Action, sorted(ours), runtime.worker_id)
        return outcomes


def _holds(error: Exception | None) -> bool:
    """Whether a call's error holds the account's other actions (`apply_failure` answers `hold`):
    the platform told it to wait (a rate limit) or refused its credentials."""
    return isinstance(error, RateLimited | CredentialsInvalid)


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
    if action.kind == ActionKind.reply:
        return await client.reply(post, reply_text(action))
    return await client.repost(post)
