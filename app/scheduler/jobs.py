"""The jobs a scheduler runs: polling (poll, match) and sending (reconcile, match, dispatch, undo),
each on its own so that a slow poll never holds sends, plus upkeep (relations, pending author
names, reposted originals that changed); `tick` runs them all once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from app.accounts.context import save_pending
from app.alerts import watch
from app.db.base import utcnow
from app.db.session import transaction
from app.moderation import author_hosts
from app.pipeline import (
    block_lists,
    dispatcher,
    identities,
    inbox,
    originals,
    poller,
    promotion,
    reconcile,
    relations,
    undo,
)
from app.pipeline import repository as pipeline_repository
from app.pipeline.fanout import Fanout
from app.pipeline.leases import release_all
from app.pipeline.matcher import BATCH, Matcher, matched_through
from app.pipeline.push import Pusher
from app.runtime import Runtime

log = logging.getLogger("reposter.jobs")


@dataclass
class TickReport:
    reconciled: int = 0
    polled_new: int = 0
    matched: int = 0
    sent: int = 0
    undone: int = 0
    originals: int = 0  # reposted originals found deleted or edited
    seconds: float = 0.0


@dataclass
class Pipeline:
    """One process's pipeline: its rule index lives as long as the process."""

    runtime: Runtime
    matcher: Matcher = field(default_factory=Matcher)
    relations_max_age: float = 900.0
    _last_relations: float = 0.0
    _last_prune: float = 0.0
    _last_identities: float = 0.0
    # per account: what its derived poll sources were computed from, and the sources
    sources: poller.SourceCache = field(default_factory=poller.SourceCache)
    fanout: Fanout | None = None
    _matching: asyncio.Lock = field(default_factory=asyncio.Lock)
    # shutdown: set once; the jobs running now (their tasks), waited for within the grace period
    stopping: bool = False
    _jobs: set[asyncio.Task[Any]] = field(default_factory=set)
    # the push path (app/pipeline/push.py), once start_push() ran: posts sent as they arrive
    pusher: Pusher | None = None

    def __post_init__(self) -> None:
        if self.fanout is None:
            self.fanout = Fanout.of(self.runtime.settings)

    async def match_all(self) -> int:
        """Match every post waiting in the inbox, batch by batch (each batch one transaction);
        the polling and the sending job both match, one at a time (the index is this process's)."""
        total = 0
        async with self._matching:
            while True:
                async with transaction(self.runtime.sessions) as session:
                    count = await self.matcher.run_batch(session, self.runtime)
                await self._look_up_hosts()  # before anything the batch queued is sent
                if self.pusher is not None:  # committed: what was just queued is sent at once
                    self.pusher.queued(self.matcher.queued)
                total += count
                if count < BATCH:  # the inbox is read to its end (a look more would find nothing)
                    return total

    async def _look_up_hosts(self) -> None:
        """PDS blocks: look up the PDS of the batch's new authors (app/moderation/author_hosts.py),
        within `pds_lookup_seconds`, then let the actions held for it go (blocked ones are skipped
        by the dispatcher's check before sending, which reads the hosts found)."""
        lookups, held = self.matcher.lookups, self.matcher.held
        if not lookups and not held:
            return
        settings = self.runtime.settings
        try:
            await author_hosts.refresh(self.runtime.sessions, self.runtime.http, lookups,
                                       plc_url=settings.plc_url, budget=settings.pds_lookup_seconds)
        except Exception:
            log.exception("PDS lookups failed", extra={"dids": len(lookups)})
        if held:
            async with transaction(self.runtime.sessions) as session:
                await pipeline_repository.release_held(session, held)

    def start_push(self) -> Pusher:
        """Start the push path: posts that arrive are matched and sent at once (app/pipeline/push.py)."""
        assert self.fanout is not None  # set by __post_init__
        if self.pusher is None:
            self.pusher = Pusher(self.runtime, self.fanout, self.match_all)
            self.pusher.start()
        return self.pusher

    async def refresh_relations(self) -> None:
        """Refresh stale follower/following/list sets, within the poll budget."""
        if time.monotonic() - self._last_relations < min(60.0, self.relations_max_age):
            return
        self._last_relations = time.monotonic()
        budget = self.runtime.settings.poll_budget_seconds
        async with asyncio.timeout(budget):
            await relations.refresh_due(self.runtime, max_age_seconds=self.relations_max_age)

    async def refresh_block_lists(self) -> int:
        """Read the subscribed block lists that are due (app.pipeline.block_lists), within the poll budget."""
        async with asyncio.timeout(self.runtime.settings.poll_budget_seconds):
            return await block_lists.refresh_due(self.runtime)

    async def resolve_identities(self) -> int:
        """Once a minute, resolve pending author names and refresh stale handles (app.pipeline.identities)."""
        if time.monotonic() - self._last_identities < 60:
            return 0
        self._last_identities = time.monotonic()
        return await identities.resolve_due(self.runtime)

    async def check_originals(self) -> int:
        """Look up reposted originals due for a look (deleted? edited?), within the poll budget."""
        async with asyncio.timeout(self.runtime.settings.poll_budget_seconds):
            return await originals.check_due(self.runtime)

    async def prune_inbox(self) -> None:
        """Once an hour, forget old matched posts no action refers to (preview reads recent ones)."""
        if time.monotonic() - self._last_prune < 3600:
            return
        self._last_prune = time.monotonic()
        days = self.runtime.settings.inbox_retention_days
        async with transaction(self.runtime.sessions) as session:
            removed = await inbox.prune(session, older_than=utcnow() - timedelta(days=days),
                                        matched_through=await matched_through(session))
        if removed:
            log.info("inbox pruned", extra={"removed": removed})

    async def tick(self, *, poll: bool = True) -> TickReport:
        """One round of the whole pipeline, waiting for all of its work (tests, benchmarks);
        errors of one stage never stop the others."""
        started = time.perf_counter()
        report = TickReport()
        report.reconciled = await self._guard("reconcile", self._reconcile())
        await self._guard("relations", self.refresh_relations())
        await self._guard("block_lists", self.refresh_block_lists())
        await self._guard("identities", self.resolve_identities())  # before matching: rules may gain ids
        if poll:
            report.polled_new = await self._guard("poll", self._poll(wait=None))
        await self._sends(report, wait=None)
        report.originals = await self._guard("originals", self.check_originals())
        return self._report(report, started)

    async def poll_tick(self) -> TickReport:
        """The polling job: poll what is due and match it. Waits `stage_wait_seconds` at most for
        the accounts it polls; slower ones go on in the background."""
        started = time.perf_counter()
        report = TickReport()
        async with self._job():
            # sources due before the next run are taken now and polled at their time, not up to a run late
            report.polled_new = await self._guard("poll", self._poll(wait=self.runtime.settings.stage_wait_seconds,
                                                                     ahead=self.runtime.settings.dispatch_interval_seconds))
            report.matched = await self._guard("match", self.match_all())
        return self._report(report, started)

    async def send_tick(self) -> TickReport:
        """The sending job: settle, match, dispatch and undo, never waiting on a poll. Waits
        `stage_wait_seconds` at most for each stage's accounts; slower ones go on in the background."""
        started = time.perf_counter()
        report = TickReport()
        async with self._job():
            report.reconciled = await self._guard("reconcile", self._reconcile())
            await self._sends(report, wait=self.runtime.settings.stage_wait_seconds)
        return self._report(report, started)

    async def relations_tick(self) -> None:
        """The upkeep job (follower sets and lists, subscribed block lists, pending author names,
        reposted originals that changed), apart so that none of it holds polls or sends."""
        async with self._job():
            await self._guard("relations", self.refresh_relations())
            await self._guard("block_lists", self.refresh_block_lists())
            await self._guard("identities", self.resolve_identities())
            await self._guard("originals", self.check_originals())

    async def alerts_tick(self) -> None:
        """The alerts job: open and resolve incidents, send the messages due (app/alerts), apart so
        that a slow receiver never holds polls or sends."""
        async with self._job():
            await self._guard("alerts", watch.run(self.runtime))

    async def close(self) -> None:
        """Stop work still running in the background (shutdown)."""
        if self.fanout is not None:  # set by __post_init__
            await self.fanout.close()

    async def shutdown(self, grace: float) -> dict[str, int]:
        """Graceful stop: start nothing new, let the jobs and background work in hand finish for
        `grace` seconds, cancel the rest, then give back every lease this worker holds, so other
        workers take its rows at once. A call cut short leaves its action `sending` (the platform
        may have acted): released, it is settled by reconcile, never sent again blind."""
        worker = self.runtime.worker_id
        self.stopping = True
        deadline = time.monotonic() + grace  # one grace period for everything in hand
        if self.pusher is not None:  # no new looks; the one under way ends (its sends are the fanout's)
            await self.pusher.stop(grace)
        assert self.fanout is not None  # set by __post_init__
        self.fanout.closing = True
        in_hand = {t for t in self._jobs if not t.done()} | {t for t in self.fanout.running.values() if not t.done()}
        left = max(0.0, deadline - time.monotonic())
        done, pending = await asyncio.wait(in_hand, timeout=left) if in_hand else (set(), set())
        log.info("shutdown: work in hand", extra={"worker": worker, "finished": len(done), "cancelled": len(pending)})
        await self.close()
        for task in pending:  # jobs (not in the fanout)
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        async with transaction(self.runtime.sessions) as session:
            released = await release_all(session, worker)
        log.info("shutdown: leases released",
                 extra={"worker": worker, **{f"released_{table}": n for table, n in released.items()}})
        return released

    @contextlib.asynccontextmanager
    async def _job(self) -> AsyncIterator[None]:
        """A scheduled job's run: known to shutdown (waited for, then cancelled). Its cancellation
        by shutdown ends it quietly (the scheduler would log it as a failure with a traceback)."""
        task = asyncio.current_task()
        assert task is not None  # a job is always run as a task
        self._jobs.add(task)
        try:
            yield
        except asyncio.CancelledError:
            if not self.stopping:
                raise
        finally:
            self._jobs.discard(task)

    async def _reconcile(self) -> int:
        """Settle orphaned `sending` rows, never for longer than a send's budget (one hanging
        server must not hold the sending job; rows left over keep their lease and come back)."""
        async with asyncio.timeout(self.runtime.settings.send_budget_seconds):
            return await reconcile.reconcile(self.runtime)

    async def _poll(self, *, wait: float | None, ahead: float = 0.0) -> int:
        return await poller.poll_due(self.runtime, self.sources, self.fanout, wait=wait, ahead=ahead)

    async def _sends(self, report: TickReport, *, wait: float | None) -> None:
        report.matched = await self._guard("match", self.match_all())
        report.sent = await self._guard("dispatch", dispatcher.dispatch_due(self.runtime, self.fanout, wait=wait))
        await self._guard("promotion", promotion.undo_ended(self.runtime))  # ended windows: done -> undoing
        report.undone = await self._guard("undo", undo.undo_due_actions(self.runtime, self.fanout, wait=wait))
        await self._guard("prune", self.prune_inbox())

    def _report(self, report: TickReport, started: float) -> TickReport:
        report.seconds = time.perf_counter() - started
        if report.polled_new or report.matched or report.sent or report.undone or report.reconciled or report.originals:
            log.info("tick", extra=report.__dict__)
        return report

    async def _guard(self, stage: str, work: Awaitable[int | None]) -> int:
        try:
            return (await work) or 0
        except Exception:  # a failing stage is logged and retried next tick
            log.exception("stage failed", extra={"stage": stage})
            return 0
        finally:
            await save_pending(self.runtime.sessions, self.runtime.pending_credentials)
