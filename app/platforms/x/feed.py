"""XFeed: polls X search and timelines with since_id, and reads the filtered stream.

Sources: `search:<query>` and `tag:<tag>` / `tags:<a>,<b>` (GET /2/tweets/search/recent, the
last 7 days), `user:<handle>` (GET /2/users/:id/tweets), `home` (the account's reverse-
chronological home timeline), `mentions` (GET /2/users/:id/mentions, read for stop words). X
answers newest first; the cursor is the newest post id seen, with the time of an empty first poll
and the gaps max_pages left (cursor.py), so nothing is lost.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from app.platforms.base import MENTIONS, CredentialsInvalid, FeedSource, PlatformError, Post, report_stream
from app.platforms.x.client import XClient, data_of
from app.platforms.x.cursor import START_SLACK_SECONDS, Gap, XCursor, start_time
from app.platforms.x.normalize import post_params, posts_from_page
from app.platforms.x.rules import rule_for_source, sync_stream_rules
from app.platforms.x.stream import STREAM_PARAMS, STREAM_PATH, StreamBackoff, parse_stream_line, refusal

log = logging.getLogger("reposter.platforms.x")

SEARCH_PATH = "/2/tweets/search/recent"


class XFeed(FeedSource):
    """One account's X feeds."""

    def __init__(self, client: XClient) -> None:
        self.client = client
        self.config = client.config
        self._user_ids: dict[str, str] = {}

    async def fetch(self, source: str, cursor: str | None) -> tuple[list[Post], str | None]:
        """Posts newer than `cursor`, oldest first, and the next cursor (see cursor.py): gaps
        that max_pages left are read first, then what is newer than the head."""
        request = await self._request(source)
        state = XCursor.decode(cursor)
        if state is None:  # a first poll: the newest page only (history is not news)
            walk = await self._walk(request, pages=1)
            if walk.newest is None:  # empty: everything from now on is new
                return [], XCursor(start=time.time()).encode()
            return _oldest_first(walk.posts), XCursor(head=walk.newest).encode()
        budget = self.config.max_pages
        found: list[Post] = []
        gaps, state.gaps = state.gaps, []
        for gap in gaps:
            walk = await self._walk(request, since_id=gap.since_id, start=gap.start, until_id=gap.until_id,
                                    pages=max(1, budget))
            budget, found = budget - walk.pages, found + walk.posts
            if not walk.complete and walk.oldest is not None:
                state.gaps.append(Gap(walk.oldest, gap.since_id, gap.start))
        start = state.start if state.head is None else None
        walk = await self._walk(request, since_id=state.head, start=start, pages=max(1, budget))
        found += walk.posts
        if not walk.complete and walk.oldest is not None:
            state.add_gap(Gap(walk.oldest, state.head, start))
        if walk.newest is not None:
            state.head, state.start = walk.newest, None
        encoded = state.encode()
        if not found and encoded == cursor:
            return [], cursor
        return _oldest_first(found), encoded

    async def _request(self, source: str) -> tuple[str, dict[str, Any], str, bool]:
        """(path, parameters, page-token parameter, is a search) for a source."""
        kind, _, arg = source.partition(":")
        fields = post_params(self.config.field_names)
        if kind in ("search", "tag", "tags"):
            query = rule_for_source(source, for_stream=False, max_length=4096)
            if kind == "search":  # X's syntax already: ours is translated where it differs, X's own kept
                query = query or arg.strip()
            if not query:
                raise PlatformError(f"x: source {source!r} names no query", retryable=False)
            params = {"query": query, "max_results": _clamp(self.config.page_size, 10), **fields}
            return SEARCH_PATH, params, "next_token", True
        if kind == "user" and arg:
            path = f"/2/users/{await self._user_id(arg.lstrip('@'))}/tweets"
        elif kind == "home":
            path = f"/2/users/{await self.client.me_id()}/timelines/reverse_chronological"
        elif kind == MENTIONS and not arg:  # posts mentioning the account (docs.x.com: 5-100 a page)
            path = f"/2/users/{await self.client.me_id()}/mentions"
        else:
            raise PlatformError(f"x: unsupported source {source!r}", retryable=False)
        return path, {"max_results": _clamp(self.config.page_size, 5), **fields}, "pagination_token", False

    async def _walk(self, request: tuple[str, dict[str, Any], str, bool], *, pages: int, since_id: str | None = None,
                    start: float | None = None, until_id: str | None = None) -> Walk:
        """Read newest first between the bounds (since_id or start time, until_id), `pages` at most."""
        path, params, page_param, search = request
        bounds = {"since_id": since_id, "start_time": start_time(start), "until_id": until_id}
        query = {**params, **{k: v for k, v in bounds.items() if v is not None}}
        try:
            return await self._pages(path, query, page_param, pages, Walk(since_id, start, until_id))
        except PlatformError as exc:
            # A refused token renewal is a 400 too: credentials, never a since_id too old (a second
            # search would renew again with the same spent refresh token).
            if not search or exc.status != 400 or not (since_id or start) or isinstance(exc, CredentialsInvalid):
                raise
            # A since_id (or start_time) older than the 7-day search window is refused: every post
            # the window holds is newer than it, so read the whole window instead.
            log.info("x since_id refused; reading the whole search window", extra={"query": params["query"]})
            query.pop("since_id", None)
            query.pop("start_time", None)
            return await self._pages(path, query, page_param, pages, Walk(since_id, start, until_id))

    async def _pages(self, path: str, query: dict[str, Any], page_param: str, pages: int, walk: Walk) -> Walk:
        """Follow next_token for up to `pages` pages; `walk.complete` says whether it reached the end."""
        token: str | None = None
        for walk.pages in range(1, pages + 1):
            body = await self.client.call("GET", path, params={**query, **({page_param: token} if token else {})})
            walk.read(posts_from_page(body), body.get("meta") or {})
            token = (body.get("meta") or {}).get("next_token")
            if not token:
                return walk
        walk.complete = False
        log.info("x poll stopped at max_pages; the rest is read next poll", extra={"path": path})
        return walk

    async def _user_id(self, handle: str) -> str:
        """The id behind a handle (GET /2/users/by/username/:username), remembered."""
        key = handle.lower()
        if key not in self._user_ids:
            body = await self.client.call("GET", f"/2/users/by/username/{handle}")
            self._user_ids[key] = str(data_of(body, f"user @{handle}")["id"])
        return self._user_ids[key]

    async def stream(self, sources: list[str]) -> AsyncGenerator[Post, None]:
        """Posts the filtered stream delivers for `sources` (those that translate to stream rules).

        Adds the missing rules first (never deletes another account's: rules belong to the app),
        then yields each post that matched one of these sources' rules, reconnecting as X asks
        (see StreamBackoff) until the caller stops or X keeps refusing. Needs the app's bearer
        token; X allows one stream connection per app on most access levels. Consume it inside
        `contextlib.aclosing(...)` so that stopping early closes the connection at once.
        """
        ours = await self._stream_rule_ids(sources)
        backoff = StreamBackoff(self.config.stream_max_failures)
        while True:
            connected, error = False, None
            try:
                async with aclosing(self.client.stream_lines(STREAM_PATH, STREAM_PARAMS)) as lines:
                    async for line in lines:
                        if not connected:
                            report_stream("connected")
                        connected = True
                        event = parse_stream_line(line)
                        if event is not None and ours.intersection(event.rule_ids):
                            yield event.post
            except PlatformError as exc:
                error = refusal(exc)
            delay = backoff.next_delay(error, connected)
            log.info("x stream reconnecting", extra={"account_id": self.client.ctx.account_id, "platform": "x",
                                                      "path": STREAM_PATH, "status": getattr(error, "status", None),
                                                      "delay": delay, "reason": str(error or "closed")})
            report_stream("reconnecting", error or PlatformError("x: the stream closed", kind="closed"))
            await self.client.http.retry.pause(delay)

    async def _stream_rule_ids(self, sources: list[str]) -> set[str]:
        """Sync the sources' rules into the app's and return the ids of these sources' rules."""
        limit = self.config.stream_rule_max_length
        values = {source: rule_for_source(source, max_length=limit) for source in sources}
        if skipped := [source for source, value in values.items() if value is None]:
            log.info("x sources that cannot be streamed, poll them", extra={"sources": skipped})
        wanted = {value for value in values.values() if value}
        if not wanted:
            raise PlatformError("x: none of these sources translates to a stream rule", retryable=False)
        sync = await sync_stream_rules(self.client, wanted)
        return {rule_id for rule_id, value in sync.rules.items() if value in wanted}


def _clamp(page_size: int, minimum: int) -> int:
    return max(minimum, min(page_size, 100))


@dataclass
class Walk:
    """What one newest-first read returned, within its bounds, and where it stopped."""

    since_id: str | None = None
    start: float | None = None
    until_id: str | None = None
    posts: list[Post] = field(default_factory=list)
    newest: str | None = None
    oldest: str | None = None
    complete: bool = True
    pages: int = 0

    def read(self, posts: list[Post], meta: dict[str, Any]) -> None:
        """Take a page's posts that are within the bounds (X ids grow with time: docs.x.com)."""
        floor = None if self.start is None else self.start - START_SLACK_SECONDS
        _digits_only([p.id for p in posts] + [str(meta[k]) for k in ("newest_id", "oldest_id") if meta.get(k)])
        for post in posts:
            if self.since_id is not None and int(post.id) <= int(self.since_id):
                continue
            if self.until_id is not None and int(post.id) >= int(self.until_id):
                continue
            if floor is not None and post.created_at is not None and post.created_at.timestamp() < floor:
                continue
            self.posts.append(post)
        ids = [int(p.id) for p in posts] + [int(meta[k]) for k in ("newest_id", "oldest_id") if meta.get(k)]
        if ids:
            self.newest = str(max([ids[0] if self.newest is None else int(self.newest), *ids]))
            self.oldest = str(min([ids[0] if self.oldest is None else int(self.oldest), *ids]))


def _digits_only(ids: list[str]) -> None:
    """X ids are digits (TweetId: `^[0-9]{1,19}$`) and are compared as numbers; anything else is a
    malformed answer, failed on the source with the id named rather than a crash (seen: Prism)."""
    if bad := [i for i in ids if not (i.isascii() and i.isdigit())]:
        raise PlatformError(f"x: malformed answer: id {bad[0]!r} is not a number", retryable=False, kind="malformed")


def _oldest_first(posts: list[Post]) -> list[Post]:
    """Unique posts, oldest first."""
    return sorted({post.id: post for post in posts}.values(), key=lambda post: int(post.id))
