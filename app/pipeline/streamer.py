"""Push feeds: accounts whose config says `"stream": true` keep a stream open; its posts land in the inbox.

Polling stays on as the safety net (a stream can drop posts while it reconnects); the inbox's
unique (platform, post id) makes a post that arrives both ways one post.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import select

from app.accounts.conditions import Severity, needs_attention, set_condition
from app.accounts.context import context_for, save_pending
from app.db.base import utcnow
from app.db.session import transaction
from app.models import Account
from app.pipeline import inbox, stream_state
from app.pipeline.poller import desired_sources
from app.pipeline.source_health import describe
from app.pipeline.stream_state import StreamPhase
from app.platforms.base import CredentialsInvalid, PlatformError, set_stream_reporter
from app.platforms.registry import get_platform

log = logging.getLogger("reposter.streamer")

NO_PUSH = PlatformError("the platform offers no stream; polling carries the feed", kind="unavailable")


class Streamer:
    """One task per streaming account; `sync()` starts and stops them as accounts change."""

    def __init__(self, runtime, *, max_backoff: float = 300.0) -> None:
        self.runtime = runtime
        self.tasks: dict[int, asyncio.Task] = {}
        self.max_backoff = max_backoff
        self._writes: set[asyncio.Task] = set()  # state writes the adapters' reports started

    async def sync(self) -> None:
        """Streams for the accounts that want one, and only those."""
        async with transaction(self.runtime.sessions) as session:
            accounts = (await session.scalars(select(Account).where(Account.enabled.is_(True)))).all()
            wanted = {a.id for a in accounts if (a.config or {}).get("stream") and not needs_attention(a)}
        for account_id in set(self.tasks) - wanted:
            self.tasks.pop(account_id).cancel()
        for account_id in wanted - set(self.tasks):
            self.tasks[account_id] = asyncio.create_task(self._run(account_id), name=f"stream-{account_id}")
        for account_id, task in list(self.tasks.items()):
            if task.done():
                self.tasks.pop(account_id)

    async def stop(self) -> None:
        """Close every stream."""
        for task in self.tasks.values():
            task.cancel()
        await asyncio.gather(*self.tasks.values(), *self._writes, return_exceptions=True)
        self.tasks.clear()

    async def _run(self, account_id: int) -> None:
        backoff = 1.0
        set_stream_reporter(self._reporter(account_id))  # this task's own context: its adapter reports here
        while True:
            await self._record(account_id, StreamPhase.connecting)
            try:
                await self._stream_once(account_id)
                backoff = 1.0
                await self._record(account_id, StreamPhase.reconnecting, PlatformError("the server closed the stream",
                                                                                      kind="closed"))
            except NotImplementedError:
                log.info("platform has no push; polling only", extra={"account_id": account_id})
                await self._record(account_id, StreamPhase.unavailable, NO_PUSH)
                return
            except CredentialsInvalid as exc:
                await self._needs_attention(account_id, str(exc))
                await self._record(account_id, StreamPhase.stopped, exc)
                return
            except Exception as exc:  # noqa: BLE001 - a stream error never stops the worker
                log.warning("stream dropped", extra={"account_id": account_id, "error": str(exc),
                                                     "error_kind": describe(exc)[0], "retry_in": backoff})
                await self._record(account_id, StreamPhase.reconnecting, exc)
            await asyncio.sleep(backoff)
            backoff = min(self.max_backoff, backoff * 2)

    async def _stream_once(self, account_id: int) -> None:
        async with transaction(self.runtime.sessions) as session:
            account = await session.get(Account, account_id)
            sources = await desired_sources(session, account, self.runtime)
        ctx = context_for(account, self.runtime.fernet, self.runtime.pending_credentials)
        feed = get_platform(account.platform).feed_source(ctx, self.runtime.http)
        log.info("stream open", extra={"account_id": account_id, "sources": sources})
        async with contextlib.aclosing(feed.stream(sources)) as posts:
            async for post in posts:
                async with transaction(self.runtime.sessions) as session:
                    await inbox.store(session, [post])
                    await stream_state.saw_post(session, account_id, utcnow())
                await save_pending(self.runtime.sessions, self.runtime.pending_credentials)

    def _reporter(self, account_id: int):
        """What the adapter's reports become: a state write, in order (a later report wins)."""
        def report(phase: str, error: BaseException | None) -> None:
            task = asyncio.get_running_loop().create_task(self._record(account_id, phase, error, at=utcnow()))
            self._writes.add(task)
            task.add_done_callback(self._writes.discard)
        return report

    async def _record(self, account_id: int, phase, error: BaseException | None = None, at=None) -> None:
        """Record the stream's state; a database hiccup here must not end the stream."""
        try:
            await stream_state.record(self.runtime.sessions, account_id, phase, error=error,
                                      worker_id=self.runtime.worker_id, at=at)
        except Exception:  # noqa: BLE001 - state is for people; the stream goes on
            log.exception("stream state not recorded", extra={"account_id": account_id, "state": str(phase)})

    async def _needs_attention(self, account_id: int, detail: str) -> None:
        async with transaction(self.runtime.sessions) as session:
            account = await session.get(Account, account_id)
            set_condition(account, "credentials", severity=Severity.attention, message=detail)
