"""MastodonFeedSource: timelines polled with min_id cursors, and the streaming API.

Polling pages *forward* from the cursor: `min_id=<cursor>` returns the statuses immediately
newer than it, and the Link header's `prev` relation carries on to newer ones. Unlike
`since_id` (which returns the newest page above the cursor and so skips the middle of a burst),
this never leaves a gap: when `max_pages` stops a poll early, the next poll resumes at the
newest status seen. Cursors are status ids, which Mastodon orders by time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from app.platforms.base import AccountContext, FeedSource, PlatformError, Post
from app.platforms.mastodon.client import MastodonClient
from app.platforms.mastodon.normalize import status_to_post
from app.platforms.mastodon.sources import Query, id_key, timeline_endpoint
from app.platforms.mastodon.streaming import stream_sources


class MastodonFeedSource(FeedSource):
    """Reads one account's timelines on its instance."""

    def __init__(self, ctx: AccountContext, http: httpx.AsyncClient) -> None:
        self.api = MastodonClient(ctx, http)
        self._user_ids: dict[str, str] = {}

    async def fetch(self, source: str, cursor: str | None) -> tuple[list[Post], str | None]:
        """Posts newer than `cursor`, oldest first, and the newest id seen as the next cursor."""
        path, params = await self.endpoint(source)
        params = [*params, ("limit", str(self.api.config.page_size))]
        if cursor is None:
            statuses = (await self.api.page(path, params)).items
        else:
            statuses = await self._forward(path, [*params, ("min_id", cursor)])
        unique = {str(s["id"]): s for s in statuses}
        ordered = sorted(unique, key=id_key)
        if cursor is not None:
            ordered = [i for i in ordered if id_key(i) > id_key(cursor)]
        if not ordered:
            return [], cursor
        # The account's own statuses (its boosts, its quotes) are never candidates: a quote that
        # carries the watched hashtag would otherwise be quoted again, and again.
        posts = [status_to_post(unique[i]) for i in ordered if not self.api.is_own(unique[i]["account"])]
        return posts, ordered[-1]

    async def _forward(self, path: str, params: Query) -> list[dict[str, Any]]:
        """Statuses after the cursor, following Link `prev` (newer) until a short page."""
        collected: list[dict[str, Any]] = []
        url, query = path, params  # type: str, Query | None
        for _ in range(self.api.config.max_pages):
            page = await self.api.page(url, query)
            collected.extend(page.items)
            newer = page.links.get("prev")
            if len(page.items) < self.api.config.page_size or newer is None:
                break
            url, query = newer, None  # the Link URL carries every parameter
        return collected

    async def endpoint(self, source: str) -> tuple[str, Query]:
        """The timeline path and query parameters a source string names."""
        kind, _, handle = source.partition(":")
        if kind == "user" and handle:
            return f"/api/v1/accounts/{await self._user_id(handle)}/statuses", []
        return timeline_endpoint(source)

    async def _user_id(self, handle: str) -> str:
        """The account id of `handle` (`alice` or `alice@other.example`), looked up once."""
        acct = handle.strip().lstrip("@")
        if acct not in self._user_ids:
            try:
                account = await self.api.call("GET", "/api/v1/accounts/lookup", params={"acct": acct}, gone=True)
            except PlatformError as exc:
                if exc.status != 404:
                    raise
                message = f"mastodon: no account {acct!r} known to the instance"
                raise PlatformError(message, retryable=False, status=404) from exc
            self._user_ids[acct] = str(account["id"])
        return self._user_ids[acct]

    async def stream(self, sources: list[str]) -> AsyncIterator[Post]:
        """Posts pushed by the streaming API (server-sent events) for `sources`, each once."""
        async for post in stream_sources(self.api, sources):
            if not self.api.is_own({"id": post.author.id, "acct": post.author.handle}):
                yield post
