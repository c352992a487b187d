"""Push feeds: accounts whose config says `"stream": true` keep a stream open; its posts land in the inbox.

Polling stays on as the safety net (a stream can drop posts while it reconnects); the inbox's
unique (platform, post id) makes a post that arrives both ways one post.

A refusal that retrying cannot mend (a server without streaming answers 404; the platform has no
push; a stream that needs what the account lacks) stops the account's stream and raises the
account condition `stream` (a warning naming the server's answer): polling carries the feed, and
the stream is tried again after STREAM_RETRY_SECONDS (servers gain streaming). The first post a
stream delivers clears it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from typing import Any

from app.accounts import repository as accounts_repo
from app.accounts.conditions import Severity, clear_condition, credentials_refused, needs_attention, set_condition
from app.accounts.context import context_for, save_pending
from app.db.base import utcnow
from app.db.session import transaction
from app.models import Account, StreamPhase
from app.pipeline import inbox, originals, push, stream_state
from app.pipeline.poller import desired_sources
from app.pipeline.source_health import describe
from app.platforms.base import (
    MENTIONS,
    CredentialsInvalid,
    PlatformError,
    PostChange,
    StreamReporter,
    set_stream_reporter,
)
from app.platforms.registry import get_platform
from app.runtime import Runtime

log = logging.getLogger("reposter.streamer")

NO_PUSH = PlatformError("the platform offers no stream; polling carries the feed", kind="unavailable")
# How long a stream the server refused stays off before it is tried again.
STREAM_RETRY_SECONDS = 6 * 3600


def refused_lately(account: Account, now: datetime) -> bool:
    """Whether the account's stream was refused for good less than STREAM_RETRY_SECONDS ago."""
    refused = (account.conditions or {}).get("stream")
    if not refused:
        return False
    return datetime.fromisoformat(refused["updated_at"]) > now - timedelta(seconds=STREAM_RETRY_SECONDS)


class Streamer:
    """One task per streaming account; `sync()` starts and stops them as accounts change."""

    def __init__(self, runtime: Runtime, *, max_backoff: float = 300.0) -> None:
        self.runtime = runtime
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self.max_backoff = max_backoff
        self._writes: set[asyncio.Task[None]] = set()  # state writes the adapters' reports started
        self.platforms: dict[int, str] = {}  # account id -> platform, for the log lines

    async def sync(self) -> None:
        """Streams for the accounts that want one, and only those."""
        async with transaction(self.runtime.sessions) as session:
            accounts = await accounts_repo.enabled(session)
            now = utcnow()
            wanted = {a.id for a in accounts
                      if (a.config or {}).get("stream") and not needs_attention(a) and not refused_lately(a, now)}
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
                await self._unavailable(account_id, "the platform has no streaming; polling carries the feed")
                await self._record(account_id, StreamPhase.unavailable, NO_PUSH)
                return
            except CredentialsInvalid as exc:
                await self._needs_attention(account_id, exc)
                await self._record(account_id, StreamPhase.stopped, exc)
                return
            except PlatformError as exc:
                if not exc.retryable:  # retrying cannot mend it: 404 (no streaming), no bearer token...
                    await self._unavailable(account_id, f"stream unavailable, polling instead: {exc}", exc)
                    await self._record(account_id, StreamPhase.unavailable, exc)
                    return
                await self._dropped(account_id, exc, backoff)
            except Exception as exc:  # noqa: BLE001 - a stream error never stops the worker
                await self._dropped(account_id, exc, backoff)
            await asyncio.sleep(backoff)
            backoff = min(self.max_backoff, backoff * 2)

    async def _dropped(self, account_id: int, exc: BaseException, backoff: float) -> None:
        """A stream that broke and will be opened again: logged with its fields, shown as reconnecting."""
        log.warning("stream dropped", extra={**self._fields(account_id, exc), "error": str(exc),
                                             "error_kind": describe(exc)[0], "retry_in": backoff})
        await self._record(account_id, StreamPhase.reconnecting, exc)

    def _fields(self, account_id: int, exc: BaseException | None = None) -> dict[str, Any]:
        """What every stream log line carries: the account, its platform, the path and status."""
        return {"account_id": account_id, "platform": self.platforms.get(account_id),
                "path": getattr(exc, "path", None), "status": getattr(exc, "status", None)}

    async def _stream_once(self, account_id: int) -> None:
        async with transaction(self.runtime.sessions) as session:
            account = await accounts_repo.get(session, account_id)
            if account is None:  # deleted since: the next sync() stops this stream
                raise LookupError(f"account {account_id} is gone")
            # mentions are polled for stop words only: a stream would hand them to the inbox
            sources = [s for s in await desired_sources(session, account, self.runtime) if s != MENTIONS]
        self.platforms[account_id] = account.platform
        ctx = context_for(account, self.runtime.fernet, self.runtime.pending_credentials)
        feed = get_platform(account.platform).feed_source(ctx, self.runtime.http)
        log.info("stream open", extra={**self._fields(account_id), "sources": sources})
        delivered = False
        async with contextlib.aclosing(feed.stream(sources)) as posts:
            async for post in posts:
                if isinstance(post, PostChange):  # an original deleted or edited: settle its reposts now
                    await originals.recheck(self.runtime, post)
                    continue
                async with transaction(self.runtime.sessions) as session:
                    if await inbox.store(session, inbox.storable_posts([post])):  # sent at once once committed
                        await push.announce(session, self.runtime)
                    await stream_state.saw_post(session, account_id, utcnow())
                    if not delivered:  # the stream works: whatever refused it before is over
                        clear_condition(await accounts_repo.get(session, account_id), "stream")
                        delivered = True
                await save_pending(self.runtime.sessions, self.runtime.pending_credentials)

    def _reporter(self, account_id: int) -> StreamReporter:
        """What the adapter's reports become: a state write, in order (a later report wins)."""
        def report(phase: str, error: BaseException | None) -> None:
            task = asyncio.get_running_loop().create_task(self._record(account_id, phase, error, at=utcnow()))
            self._writes.add(task)
            task.add_done_callback(self._writes.discard)
        return report

    async def _record(self, account_id: int, phase: StreamPhase | str, error: BaseException | None = None,
                      at: datetime | None = None) -> None:
        """Record the stream's state; a database hiccup here must not end the stream."""
        try:
            await stream_state.record(self.runtime.sessions, account_id, phase, error=error,
                                      worker_id=self.runtime.worker_id, at=at)
        except Exception:  # state is for people; the stream goes on (logged)
            log.exception("stream state not recorded", extra={"account_id": account_id, "state": str(phase)})

    async def _unavailable(self, account_id: int, message: str, exc: PlatformError | None = None) -> None:
        """The stream is refused for good: say so on the account; polling carries the feed."""
        log.warning("stream unavailable; polling carries the feed", extra={**self._fields(account_id, exc),
                                                                           "error": message})
        async with transaction(self.runtime.sessions) as session:
            account = await accounts_repo.get(session, account_id)
            if account is not None:  # (deleted since: nothing to say it on)
                set_condition(account, "stream", severity=Severity.warning, message=message,
                              http_status=getattr(exc, "status", None))

    async def _needs_attention(self, account_id: int, exc: CredentialsInvalid) -> None:
        async with transaction(self.runtime.sessions) as session:
            account = await accounts_repo.get(session, account_id)
            if account is not None:  # (deleted since: nothing to say it on)
                credentials_refused(account, exc)
