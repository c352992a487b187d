"""Mastodon's streaming API over server-sent events: `update` events become Posts.

One HTTP connection per stream (`/api/v1/streaming/hashtag?tag=…`, `/user`, `/public`, `/list`),
reconnected with backoff when it drops; posts are deduplicated across streams (a status with
two watched tags arrives on both). Anything missed while disconnected is picked up by polling,
which the scheduler keeps doing with the cursor. A server without the streaming API (Takahē
answers 404) raises StreamUnavailable at once: retrying would never mend it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from app.platforms.base import (
    STREAM_REFUSALS,
    CredentialsInvalid,
    PlatformError,
    Post,
    PostChange,
    RateLimited,
    StreamUnavailable,
    report_stream,
)
from app.platforms.http import retry_at_from_headers
from app.platforms.mastodon.client import MastodonClient
from app.platforms.mastodon.normalize import status_to_post
from app.platforms.mastodon.sources import Endpoint, stream_endpoints

log = logging.getLogger("reposter.platforms.mastodon.streaming")

# Mastodon sends a `:thump` comment every 15 seconds; silence for longer means a dead connection.
READ_TIMEOUT = 60.0
MAX_BACKOFF = 60.0
SEEN_LIMIT = 10_000


@dataclass
class ServerEvent:
    """One server-sent event: its name (`update`, `delete`, …) and its data."""

    event: str
    data: str


class SSEParser:
    """Incremental parser of the text/event-stream format, fed one line at a time."""

    def __init__(self) -> None:
        self._event = ""
        self._data: list[str] = []

    def feed(self, line: str) -> ServerEvent | None:
        """Take one line (without its newline); return the event a blank line completes."""
        line = line.rstrip("\r")
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment: Mastodon's heartbeat
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            self._event = value
        elif field == "data":
            self._data.append(value)
        return None

    def _dispatch(self) -> ServerEvent | None:
        event, data = self._event or "message", "\n".join(self._data)
        self._event, self._data = "", []
        return ServerEvent(event, data) if data else None


def event_to_post(event: ServerEvent) -> Post | PostChange | None:
    """What an event says: a new Post (`update`, a Status as JSON), an edited one (`status.update`,
    the Status as it is now) or a deleted one (`delete`, the status id); None for other events."""
    if event.event == "delete":
        return PostChange(platform="mastodon", id=event.data.strip()) if event.data.strip() else None
    if event.event not in ("update", "status.update"):
        return None
    try:
        post = status_to_post(json.loads(event.data))
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("mastodon stream: unreadable update event", extra={"event": event.event,
                                                                       "error": type(exc).__name__})
        return None
    return post if event.event == "update" else PostChange(platform="mastodon", id=post.id, post=post)


async def read_events(response: httpx.Response) -> AsyncIterator[ServerEvent]:
    """The events of one open event-stream response, in order."""
    parser = SSEParser()
    async for line in response.aiter_lines():
        event = parser.feed(line)
        if event is not None:
            yield event
    tail = parser.feed("")
    if tail is not None:
        yield tail


async def stream_sources(api: MastodonClient, sources: list[str]) -> AsyncIterator[Post | PostChange]:
    """Posts from every stream the sources name, merged, each status once."""
    endpoints = {e[0] + json.dumps(e[1], sort_keys=True): e for s in sources for e in stream_endpoints(s)}
    queue: asyncio.Queue[Post | PostChange | BaseException] = asyncio.Queue(maxsize=1000)
    tasks = [asyncio.create_task(_keep_streaming(api, endpoint, queue)) for endpoint in endpoints.values()]
    seen: OrderedDict[str, None] = OrderedDict()
    try:
        while True:
            item = await queue.get()
            if isinstance(item, BaseException):
                raise item
            if isinstance(item, PostChange):  # every change counts, even of a post seen before
                yield item
                continue
            if item.id in seen:
                continue
            seen[item.id] = None
            if len(seen) > SEEN_LIMIT:
                seen.popitem(last=False)
            yield item
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _keep_streaming(api: MastodonClient, endpoint: Endpoint, queue: asyncio.Queue) -> None:
    """Hold one stream open, reconnecting with backoff; an error retrying cannot mend goes to the queue."""
    path = endpoint[0]
    fields = {"account_id": api.ctx.account_id, "platform": "mastodon", "path": path}
    delay = 1.0
    while True:
        try:
            async for post in _stream_once(api, endpoint):
                delay = 1.0  # a stream that delivers resets the backoff
                await queue.put(post)
            wait = delay
        except PlatformError as exc:
            if not exc.retryable:
                await queue.put(exc)
                return
            wait = _rate_limit_wait(exc) or delay
            log.warning("mastodon stream: reconnecting", extra={**fields, "status": exc.status, "error": str(exc)})
            report_stream("reconnecting", exc)
        except (httpx.TransportError, httpx.TimeoutException) as exc:
            wait = delay
            log.warning("mastodon stream: connection lost", extra={**fields, "status": None,
                                                                    "error": type(exc).__name__})
            report_stream("reconnecting", exc)
        await api.http.retry.pause(wait)
        await asyncio.sleep(0)  # let the consumer run even when pauses are instant (tests)
        delay = min(delay * 2, MAX_BACKOFF)


def _rate_limit_wait(exc: PlatformError) -> float | None:
    """Seconds until a rate-limited stream may reconnect."""
    if isinstance(exc, RateLimited):
        return max(1.0, (exc.retry_at - datetime.now(UTC)).total_seconds())
    return None


async def _stream_once(api: MastodonClient, endpoint: Endpoint) -> AsyncIterator[Post | PostChange]:
    """One connection: the Post of each `update` event (and each edit or deletion), until the
    server closes it."""
    path, params = endpoint
    base = api.config.streaming_url or api.config.base_url
    timeout = httpx.Timeout(10.0, read=READ_TIMEOUT)
    headers = {**api.auth_headers(await api.token()), "Accept": "text/event-stream"}
    connection = api.http.http.stream("GET", f"{base}{path}", params=params, headers=headers, timeout=timeout)
    async with connection as response:
        _raise_for_status(response, path)
        report_stream("connected")
        async for event in read_events(response):
            post = event_to_post(event)
            if post is not None:
                yield post


def _raise_for_status(response: httpx.Response, path: str) -> None:
    """Map a refused stream to the PlatformError family (the body is not read: it may be endless)."""
    status = response.status_code
    if status < 400:
        return
    if status in (401, 403):  # a bad token, or one without the read:statuses scope
        raise CredentialsInvalid(f"mastodon: streaming {path} refused the token (HTTP {status})", status=status)
    if status == 429:
        raise RateLimited(f"mastodon: streaming {path} rate limited", retry_at=retry_at_from_headers(response.headers))
    if status in STREAM_REFUSALS:  # no streaming API on this server: polling carries the feed
        host = response.request.url.host
        raise StreamUnavailable(f"mastodon: {host} has no streaming API (GET {path} answered HTTP {status})",
                                status=status, path=path)
    raise PlatformError(f"mastodon: streaming {path} answered HTTP {status}", retryable=status >= 500, status=status)
