"""XFeed: polls X search and timelines with since_id, and reads the filtered stream.

Sources: `search:<query>` and `tag:<tag>` / `tags:<a>,<b>` (GET /2/tweets/search/recent, the
last 7 days), `user:<handle>` (GET /2/users/:id/tweets), `home` (the account's reverse-
chronological home timeline). X answers newest first; the cursor is the newest post id seen.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

from app.platforms.base import FeedSource, PlatformError, Post, report_notice, report_stream
from app.platforms.x.client import XClient, data_of
from app.platforms.x.normalize import post_params, posts_from_page
from app.platforms.x.rules import rule_for_source, sync_stream_rules
from app.platforms.x.stream import STREAM_PARAMS, STREAM_PATH, StreamBackoff, parse_stream_line

log = logging.getLogger("reposter.platforms.x")

SEARCH_PATH = "/2/tweets/search/recent"


class XFeed(FeedSource):
    """One account's X feeds."""

    def __init__(self, client: XClient) -> None:
        self.client = client
        self.config = client.config
        self._user_ids: dict[str, str] = {}

    async def fetch(self, source: str, cursor: str | None) -> tuple[list[Post], str | None]:
        """Posts newer than `cursor`, oldest first, and the newest id as the next cursor."""
        kind, _, arg = source.partition(":")
        if kind in ("search", "tag", "tags"):
            query = rule_for_source(source, for_stream=False, max_length=4096)
            if kind == "search":  # X's syntax already: ours is translated where it differs, X's own kept
                query = query or arg.strip()
            if not query:
                raise PlatformError(f"x: source {source!r} names no query", retryable=False)
            return await self._search(query, cursor)
        if kind == "user" and arg:
            path = f"/2/users/{await self._user_id(arg.lstrip('@'))}/tweets"
        elif kind == "home":
            path = f"/2/users/{await self.client.me_id()}/timelines/reverse_chronological"
        else:
            raise PlatformError(f"x: unsupported source {source!r}", retryable=False)
        params = {"max_results": _clamp(self.config.page_size, 5), **post_params(self.config.field_names)}
        return await self._collect(path, params, cursor, page_param="pagination_token")

    async def _search(self, query: str, cursor: str | None) -> tuple[list[Post], str | None]:
        params = {
            "query": query,
            "max_results": _clamp(self.config.page_size, 10),
            **post_params(self.config.field_names),
        }
        if cursor is None:
            return await self._collect(SEARCH_PATH, params, None, page_param="next_token")
        try:
            return await self._collect(SEARCH_PATH, {**params, "since_id": cursor}, cursor, page_param="next_token")
        except PlatformError as exc:
            if exc.status != 400:
                raise
            # A since_id older than the 7-day search window is refused: every post the window
            # holds is newer than it, so read the whole window instead.
            log.info("x since_id refused; reading the whole search window", extra={"query": query})
            return await self._collect(SEARCH_PATH, params, cursor, page_param="next_token")

    async def _collect(
        self, path: str, params: dict[str, Any], cursor: str | None, *, page_param: str
    ) -> tuple[list[Post], str | None]:
        """Follow next_token back to `cursor` (one page only without a cursor)."""
        posts: list[Post] = []
        token: str | None = None
        for _ in range(self.config.max_pages if cursor else 1):
            body = await self.client.call("GET", path, params={**params, **({page_param: token} if token else {})})
            posts.extend(posts_from_page(body))
            token = (body.get("meta") or {}).get("next_token")
            if not token:
                break
        if token and cursor:
            log.warning("x poll stopped at max_pages; older posts were skipped", extra={"path": path, "cursor": cursor})
            report_notice("posts_skipped", f"a poll stopped after {self.config.max_pages} pages; older posts were "
                                           "skipped (raise max_pages or poll more often)")
        return _newer_than(posts, cursor)

    async def _user_id(self, handle: str) -> str:
        """The id behind a handle (GET /2/users/by/username/:username), remembered."""
        key = handle.lower()
        if key not in self._user_ids:
            body = await self.client.call("GET", f"/2/users/by/username/{handle}")
            self._user_ids[key] = str(data_of(body, f"user @{handle}")["id"])
        return self._user_ids[key]

    async def stream(self, sources: list[str]) -> AsyncIterator[Post]:
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
                error = exc
            delay = backoff.next_delay(error, connected)
            log.info("x stream reconnecting", extra={"delay": delay, "reason": str(error or "closed")})
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


def _newer_than(posts: list[Post], cursor: str | None) -> tuple[list[Post], str | None]:
    """Unique posts newer than `cursor`, oldest first, and the newest id (or `cursor` if none)."""
    unique = {post.id: post for post in posts if cursor is None or int(post.id) > int(cursor)}
    ordered = sorted(unique.values(), key=lambda post: int(post.id))
    return ordered, (ordered[-1].id if ordered else cursor)
