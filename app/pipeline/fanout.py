"""Per-account platform work run concurrently: bounded overall and per server, each call in a budget.

One worker serves every account, so one hanging server must cost only its own accounts. Each
round's work is one task per account (an account's calls stay in order, so its limits and send
order hold), queued behind two semaphores of its stage (polls, sends): the whole worker's and the
account's server's, so a backlog of polls never holds a send. A
round waits for its tasks up to `wait` seconds; a task still running then goes on in the
background, and its account is left out of later rounds of that stage until it ends.
Database sessions are never held across a platform call (the callers open one before and one
after), so concurrency needs no more connections than tasks doing database work at that moment.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

import httpx

from app.config import Settings
from app.db.session import transaction
from app.pipeline.leases import Leased, release
from app.platforms.base import OutcomeUnknown
from app.runtime import Runtime

log = logging.getLogger("reposter.fanout")

T = TypeVar("T")
# (stage, account id): one account's work in one stage of the pipeline.
Key = tuple[str, int]


class CallAbandoned(OutcomeUnknown):
    """A platform call took longer than its budget and was abandoned: the server may have acted,
    so a send is settled by asking before it is tried again, as after any OutcomeUnknown."""

    kind_default = "timeout"

    def __init__(self, message: str):
        super().__init__(message)


async def within(seconds: float, call: Awaitable[T], what: str) -> T:
    """Await a platform call for at most `seconds`; CallAbandoned when it takes longer."""
    try:
        async with asyncio.timeout(seconds):
            return await call
    except TimeoutError:
        raise CallAbandoned(f"{what} took longer than {seconds:g} s; abandoned") from None


def host_of(platform: str, config: dict[str, Any] | None) -> str:
    """The server an account's calls go to: its instance, PDS or API host (the platform's name
    when its config names none, e.g. api.x.com by default)."""
    config = config or {}
    for key in ("base_url", "pds_url"):
        if config.get(key):
            return httpx.URL(str(config[key])).host or platform
    if platform == "mock":  # each mock world is a server of its own
        return f"mock:{config.get('world', 'default')}"
    return platform


class Fanout:
    """The worker's concurrency bounds and the work still running from earlier rounds."""

    def __init__(self, *, overall: int, per_host: int) -> None:
        # Bounds per stage: a backlog of polls (hundreds of sources due at once) queues behind the
        # poll bounds only, never in front of a send (sends waited behind every queued poll: the
        # oldest due action was as old as the poll backlog). So a worker makes at most `overall`
        # calls per stage at once, and `per_host` per stage to one server.
        self.limits = (overall, per_host)
        self.overall: dict[str, asyncio.Semaphore] = {}
        self.hosts: dict[tuple[str, str], asyncio.Semaphore] = {}
        self.running: dict[Key, asyncio.Task[int]] = {}
        self.started: set[Key] = set()  # of those running, the ones past their wait and bounds
        # shutting down: no new rounds start (their rows' leases are given back by release_all)
        self.closing = False
        # Per stage, held from "who is busy" through the claim to the start of the tasks: two
        # rounds of one stage (the scheduled job and the push path) must never both start an account.
        self._claiming: dict[str, asyncio.Lock] = {}
        # called with (stage, account id) when an account's work ends (the push path retries then)
        self.on_done: Callable[[Key], None] | None = None

    @classmethod
    def of(cls, settings: Settings) -> Fanout:
        """Bounds from the settings."""
        return cls(overall=settings.max_concurrent_calls, per_host=settings.max_calls_per_host)

    def busy(self, stage: str) -> list[int]:
        """Ids of the accounts whose `stage` work from an earlier round is still running."""
        return [key[1] for key, task in self.running.items() if key[0] == stage and not task.done()]

    def waiting(self, stage: str) -> int:
        """How many accounts' `stage` work is started but still waits (for its time or a place)."""
        return sum(1 for key, task in self.running.items()
                   if key[0] == stage and not task.done() and key not in self.started)

    def claiming(self, stage: str) -> asyncio.Lock:
        """The lock to hold from `busy(stage)` through the claim to `start` (see __init__)."""
        return self._claiming.setdefault(stage, asyncio.Lock())

    async def round(self, stage: str, work: dict[int, tuple[str, Callable[[], Awaitable[int]]]],
                    *, wait: float | None, delays: dict[int, float] | None = None) -> int:
        """Run `work` (account id -> (host, job)) concurrently, each after its delay (`start`); the
        sum of the jobs finished within `wait` seconds (None: wait for all). The others finish in
        the background."""
        return await self.collect(stage, self.start(stage, work, delays=delays), wait=wait)

    def start(self, stage: str, work: dict[int, tuple[str, Callable[[], Awaitable[int]]]], *,
              delays: dict[int, float] | None = None) -> list[asyncio.Task[int]]:
        """Start `work` (account id -> (host, job)), each account's job a task known to `busy` at once.
        An account with a delay (seconds) waits that long before it takes its places: work claimed
        ahead of its time does not hold a place of the worker or the server while it waits."""
        if self.closing:
            return []
        tasks = []
        delays = delays or {}
        for account_id, (host, job) in work.items():
            task = asyncio.create_task(self._bounded((stage, account_id), host, job, delays.get(account_id, 0.0)),
                                       name=f"{stage}-{account_id}")
            self.running[(stage, account_id)] = task
            task.add_done_callback(partial(self._finished, (stage, account_id)))
            tasks.append(task)
        return tasks

    async def collect(self, stage: str, tasks: list[asyncio.Task[int]], *, wait: float | None) -> int:
        """The sum of the tasks finished within `wait` seconds (None: all); the rest go on in the background."""
        if not tasks:
            return 0
        done, pending = await asyncio.wait(tasks, timeout=wait)
        if pending:
            log.info("work goes on in the background", extra={"stage": stage, "accounts": len(pending)})
        return sum(t.result() or 0 for t in done if not t.cancelled() and t.exception() is None)

    async def close(self) -> None:
        """Cancel what is still running (shutdown): leases run out and other workers take over."""
        tasks = [t for t in self.running.values() if not t.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.running.clear()
        self.started.clear()

    async def _bounded(self, key: Key, host: str, job: Callable[[], Awaitable[int]], delay: float = 0.0) -> int:
        if delay > 0:
            await asyncio.sleep(delay)
        overall, per_host = self.limits
        stage = key[0]
        server = self.hosts.setdefault((stage, host), asyncio.Semaphore(per_host))
        async with server, self.overall.setdefault(stage, asyncio.Semaphore(overall)):
            self.started.add(key)
            return await job()

    def _finished(self, key: Key, task: asyncio.Task[int]) -> None:
        if self.running.get(key) is task:
            del self.running[key]
            self.started.discard(key)
        if not task.cancelled() and task.exception() is not None:
            log.error("account work failed", exc_info=task.exception(), extra={"stage": key[0], "account_id": key[1]})
        if self.on_done is not None:
            self.on_done(key)


async def one_by_one(runtime: Runtime, model: Leased, ids: list[int], step: Callable[[int], Awaitable[int]], *,
                     budget: float) -> int:
    """One account's claimed rows, one after the other through `step`; the sum of what it returned.
    A step that used up its whole `budget` means the server is not answering: the rest are given
    back (still due) for a later round, rather than each waiting a budget while its lease runs out."""
    total = 0
    for index, row_id in enumerate(ids):
        started = time.monotonic()
        total += await step(row_id)
        if time.monotonic() - started >= budget and index + 1 < len(ids):
            async with transaction(runtime.sessions) as session:
                await release(session, model, ids[index + 1 :], runtime.worker_id)
            break
    return total
