"""The jobs a scheduler tick runs: reconcile, refresh relations, poll, match, dispatch, undo."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from datetime import timedelta

from app.accounts.context import save_pending
from app.db.base import utcnow
from app.db.session import transaction
from app.pipeline import dispatcher, identities, inbox, originals, poller, reconcile, relations, undo
from app.pipeline.matcher import Matcher, matched_through

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

    runtime: object
    matcher: Matcher = field(default_factory=Matcher)
    relations_max_age: float = 900.0
    _last_relations: float = 0.0
    _last_prune: float = 0.0
    _last_identities: float = 0.0
    # per account: what its derived poll sources were computed from, and the sources
    sources: dict = field(default_factory=dict)

    async def match_all(self) -> int:
        """Match every post waiting in the inbox, batch by batch (each batch one transaction)."""
        total = 0
        while True:
            async with transaction(self.runtime.sessions) as session:
                count = await self.matcher.run_batch(session, self.runtime)
            total += count
            if count == 0:
                return total

    async def refresh_relations(self) -> None:
        if time.monotonic() - self._last_relations < min(60.0, self.relations_max_age):
            return
        self._last_relations = time.monotonic()
        async with transaction(self.runtime.sessions) as session:
            await relations.refresh_due(session, self.runtime, max_age_seconds=self.relations_max_age)

    async def resolve_identities(self) -> int:
        """Once a minute, resolve pending author names and refresh stale handles (app.pipeline.identities)."""
        if time.monotonic() - self._last_identities < 60:
            return 0
        self._last_identities = time.monotonic()
        return await identities.resolve_due(self.runtime)

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
        """One round of the whole pipeline; errors of one stage never stop the others."""
        started = time.perf_counter()
        report = TickReport()
        report.reconciled = await self._guard("reconcile", reconcile.reconcile(self.runtime))
        await self._guard("relations", self.refresh_relations())
        if poll:
            report.polled_new = await self._guard("poll", poller.poll_due(self.runtime, self.sources))
        await self._guard("identities", self.resolve_identities())  # before matching: rules may gain ids
        report.matched = await self._guard("match", self.match_all())
        report.sent = await self._guard("dispatch", dispatcher.dispatch_due(self.runtime))
        report.undone = await self._guard("undo", undo.undo_due_actions(self.runtime))
        report.originals = await self._guard("originals", originals.check_due(self.runtime))
        await self._guard("prune", self.prune_inbox())
        report.seconds = time.perf_counter() - started
        if report.polled_new or report.matched or report.sent or report.undone or report.reconciled:
            log.info("tick", extra=report.__dict__)
        return report

    async def _guard(self, stage: str, work) -> int:
        try:
            return (await work) or 0
        except Exception:  # noqa: BLE001 - a failing stage is logged and retried next tick
            log.exception("stage failed", extra={"stage": stage})
            return 0
        finally:
            await save_pending(self.runtime.sessions, self.runtime.pending_credentials)
