"""The push path: a post that lands in the inbox through a stream or /ingest is matched, decided and
sent at once, not at the next scheduled tick.

Whoever stores pushed posts calls `announce` in the transaction that stores them: once it commits,
this process's `Arrivals` is kicked, and on PostgreSQL a NOTIFY (sent by the commit, never by a
rollback) wakes the push loop of every other worker (`reposter serve` and `reposter worker` apart).
On SQLite the kick stays in its process: with the API apart from the worker, the worker's next tick
takes the post (SQLite runs one process: `serve --with-worker` or the demo).

The `Pusher` loop, one per worker, owned by the Pipeline: kicked, it matches the inbox
(Pipeline.match_all: the same matcher, cursor and unique action rows as the scheduled job) and
starts the sends of the actions just queued through the dispatcher (dispatcher.send_now: the same
claim, lease, checks, limits and call_and_record). Kicks during a look make one more look. It never
waits for a platform call; an account still sending is served when its sends end (Fanout.on_done).
Whatever the push path leaves (an action over a limit, a pass that failed, a worker that died
between deciding and sending) is an ordinary queued row that the scheduled job sends: ticks stay on
as the safety net.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import psycopg
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.pipeline import repository
from app.pipeline.dispatcher import SENDS, send_now
from app.pipeline.fanout import Fanout, Key
from app.runtime import Runtime

log = logging.getLogger("reposter.push")

# How long the listener waits before connecting again after its connection broke.
LISTEN_RETRY_SECONDS = 5.0


async def announce(session: AsyncSession, runtime: Runtime) -> None:
    """Posts were stored in `session`'s transaction: once it commits, wake the push path here and,
    on PostgreSQL, in every worker (NOTIFY is delivered at commit, and dropped by a rollback)."""
    await repository.notify_arrivals(session, runtime.worker_id)

    def kick(_: Session) -> None:  # after_commit: the posts are visible to the matcher now
        runtime.arrivals.kick()

    event.listen(session.sync_session, "after_commit", kick, once=True)


class Pusher:
    """One worker's push loop (see the module's docstring)."""

    def __init__(self, runtime: Runtime, fanout: Fanout, match: Callable[[], Awaitable[int]]) -> None:
        self.runtime, self.fanout, self.match = runtime, fanout, match
        # just-queued actions not yet started: action id -> account id
        self.fresh: dict[int, int] = {}
        self.passes = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._matching = False  # within a look's match: what it queues is sent by that look, no kick needed
        fanout.on_done = self._account_done

    def start(self) -> None:
        """Start the loop, and on PostgreSQL the listener for other processes' arrivals."""
        self._tasks.append(asyncio.create_task(self._run(), name="push"))
        if self.runtime.engine.dialect.name == "postgresql":
            self._tasks.append(asyncio.create_task(self._listen(), name="push-listen"))

    def queued(self, actions: dict[int, int]) -> None:
        """Actions the matcher just queued and committed (by whichever job matched): send them now."""
        if actions:
            self.fresh.update(actions)
            if not self._matching:
                self.runtime.arrivals.kick()

    async def stop(self, grace: float) -> None:
        """No new looks; the one under way may end within `grace` seconds, then it is cancelled.
        (Sends it started are the fanout's, waited for by Pipeline.shutdown.)"""
        self._stopping = True
        self.runtime.arrivals.kick()
        for task in self._tasks[1:]:  # the listener
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks[:1], timeout=grace)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def _run(self) -> None:
        arrivals = self.runtime.arrivals
        while True:
            await arrivals.wait()
            if self._stopping:
                return
            arrivals.clear()  # before looking: a kick that comes during the look means one more
            try:
                await self.look()
            except Exception:  # the scheduled job is the safety net; the next kick looks again
                log.exception("push pass failed")

    async def look(self) -> int:
        """One look: match what is new, then start the sends of what was just queued; returns how
        many accounts' sends were started."""
        self.passes += 1
        self._matching = True
        try:
            await self.match()  # hands what it queued to `queued`; send_now below takes it
        finally:
            self._matching = False
        return await send_now(self.runtime, self.fanout, self.fresh)

    def _account_done(self, key: Key) -> None:
        """An account's sends ended: if it has just-queued actions that waited for it, look again."""
        stage, account_id = key
        if stage == SENDS and not self._stopping and account_id in self.fresh.values():
            self.runtime.arrivals.kick()

    async def _listen(self) -> None:
        """PostgreSQL: LISTEN for other processes' arrivals, on a connection of its own, for good."""
        url = self.runtime.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {repository.ARRIVALS_CHANNEL}")
                    self.runtime.arrivals.kick()  # what arrived while nobody listened
                    async for note in conn.notifies():
                        if note.payload != self.runtime.worker_id:  # our own: kicked in-process already
                            self.runtime.arrivals.kick()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the database may be restarting; ticks go on meanwhile
                log.warning("arrivals listener lost", extra={"error": str(exc), "retry_in": LISTEN_RETRY_SECONDS})
            await asyncio.sleep(LISTEN_RETRY_SECONDS)
