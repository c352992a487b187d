"""Jetstream push: new posts as JSON over a websocket, resumable by time (`time_us`).

`wantedCollections=app.bsky.feed.post` narrows the stream to posts; `wantedDids` narrows it
to authors when every source is a set of people. On a dropped connection the reader reconnects
with `cursor` a few seconds before the last event (gapless replay, as Jetstream's docs advise)
and drops the replayed posts it already yielded.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import websockets
from websockets.exceptions import InvalidStatus, WebSocketException

from app.platforms.base import STREAM_REFUSALS, Author, PlatformError, Post, StreamUnavailable, report_stream
from app.platforms.bluesky.normalize import post_from_record

log = logging.getLogger("reposter.platforms.bluesky.jetstream")

POST_COLLECTION = "app.bsky.feed.post"
MAX_WANTED_DIDS = 10_000  # Jetstream's limit on wantedDids
RECENT = 20_000  # uris remembered to drop replays after a reconnect
_WORD = re.compile(r"[#@]?[\w.\-]+", re.UNICODE)

Connect = Callable[[str], AbstractAsyncContextManager[Any]]
Sleep = Callable[[float], Awaitable[None]]


def subscribe_url(base: str, *, cursor_us: int | None = None, dids: set[str] | None = None) -> str:
    """The subscribe address for posts, optionally from a time and for some authors only."""
    params = [("wantedCollections", POST_COLLECTION)]
    params += [("wantedDids", did) for did in sorted(dids or ())]
    if cursor_us is not None:
        params.append(("cursor", str(cursor_us)))
    return f"{base}?{urlencode(params)}"


def parse_event(message: str | bytes | dict[str, Any], handles: dict[str, str]) -> tuple[int | None, Post | None]:
    """(time_us, post) of one Jetstream message. Only post creations give a post; identity
    events teach `handles` (DID -> handle), since commits carry DIDs only."""
    try:
        event = json.loads(message) if isinstance(message, str | bytes) else message
        time_us = int(event["time_us"])
    except (ValueError, KeyError, TypeError):
        log.warning("jetstream: unreadable message skipped")
        return None, None
    if event.get("kind") == "identity":
        identity = event.get("identity") or {}
        if identity.get("did") and identity.get("handle"):
            handles[identity["did"]] = identity["handle"].lower()
        return time_us, None
    commit = event.get("commit") or {}
    record = commit.get("record")
    if event.get("kind") != "commit" or commit.get("operation") != "create":
        return time_us, None
    if commit.get("collection") != POST_COLLECTION or not isinstance(record, dict) or not commit.get("rkey"):
        return time_us, None
    did = event["did"]
    uri = f"at://{did}/{POST_COLLECTION}/{commit['rkey']}"
    post = post_from_record(
        record, uri=uri, cid=commit.get("cid") or "", author=Author(id=did, handle=handles.get(did, did))
    )
    post.ref["time_us"] = str(time_us)
    return time_us, post


def words(text: str) -> set[str]:
    """Lower-cased words of a text (with their # or @ when they have one)."""
    return {w.lower().rstrip(".") for w in _WORD.findall(text)}


@dataclass
class StreamFilter:
    """Which pushed posts the account's sources want."""

    everything: bool = False
    tags: set[str] = field(default_factory=set)
    queries: list[set[str]] = field(default_factory=list)
    dids: set[str] = field(default_factory=set)

    def wanted_dids(self) -> set[str] | None:
        """Authors to ask Jetstream for, when the sources are only people (else None: all)."""
        if self.everything or self.tags or self.queries or not self.dids or len(self.dids) > MAX_WANTED_DIDS:
            return None
        return self.dids

    def matches(self, post: Post) -> bool:
        """Whether a post belongs to one of the sources."""
        if self.everything or post.author.id in self.dids:
            return True
        if self.tags & {t.lower() for t in post.hashtags}:
            return True
        if not self.queries:
            return False
        have = words(post.text) | {f"#{t.lower()}" for t in post.hashtags}
        return any(query <= have for query in self.queries)


class JetstreamReader:
    """Reads posts from Jetstream for ever, reconnecting with backoff and resuming by time."""

    def __init__(
        self,
        base_url: str,
        wanted: StreamFilter,
        *,
        connect: Connect | None = None,
        cursor_us: int | None = None,
        rewind_us: int = 5_000_000,
        sleep: Sleep | None = None,
        max_reconnects: int | None = None,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        account_id: int | None = None,
    ) -> None:
        self.base_url = base_url
        # What every log line of this stream carries (never the query: it may name people).
        self.path = urlsplit(base_url).path
        self.fields = {"account_id": account_id, "platform": "bluesky", "path": self.path}
        self.wanted = wanted
        self.connect = connect or websockets.connect
        self.cursor_us = cursor_us  # time_us of the last event read
        self.rewind_us = rewind_us
        self.sleep = sleep or asyncio.sleep
        self.max_reconnects = max_reconnects
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.handles: dict[str, str] = {}
        self._recent: OrderedDict[str, None] = OrderedDict()

    def url(self) -> str:
        """Where to (re)connect: a little before the last event read, if any."""
        start = None if self.cursor_us is None else max(0, self.cursor_us - self.rewind_us)
        return subscribe_url(self.base_url, cursor_us=start, dids=self.wanted.wanted_dids())

    async def posts(self) -> AsyncIterator[Post]:
        """Yield each wanted post once; raise PlatformError after `max_reconnects` failures in a row."""
        failures = 0
        while True:
            try:
                async with self.connect(self.url()) as socket:
                    report_stream("connected")
                    async for message in socket:
                        failures = 0
                        post = self._accept(message)
                        if post is not None:
                            yield post
                log.info("jetstream: connection closed, reconnecting", extra=self.fields)
            except InvalidStatus as exc:
                status = exc.response.status_code
                if status in STREAM_REFUSALS:  # no Jetstream at that address: polling carries the feed
                    host = urlsplit(self.base_url).hostname
                    raise StreamUnavailable(f"bluesky: {host} has no Jetstream (the websocket handshake answered "
                                            f"HTTP {status})", status=status, path=self.path) from exc
                log.warning("jetstream: connection refused", extra={**self.fields, "status": status,
                                                                     "error": type(exc).__name__})
            except (TimeoutError, OSError, WebSocketException) as exc:
                log.warning("jetstream: connection lost", extra={**self.fields, "status": None,
                                                                  "error": type(exc).__name__})
                report_stream("reconnecting", exc)
            failures += 1
            if self.max_reconnects is not None and failures > self.max_reconnects:
                raise PlatformError(f"bluesky: jetstream unreachable after {failures} attempts")
            await self.sleep(min(self.max_backoff, self.backoff * 2 ** (failures - 1)))

    def _accept(self, message: str | bytes) -> Post | None:
        """Advance the cursor; return the post if it is wanted and not a replay."""
        time_us, post = parse_event(message, self.handles)
        if time_us is not None:
            self.cursor_us = max(self.cursor_us or 0, time_us)
        if post is None or post.id in self._recent or not self.wanted.matches(post):
            return None
        self._recent[post.id] = None
        if len(self._recent) > RECENT:
            self._recent.popitem(last=False)
        return post
