"""MastodonFeedSource: timelines polled with the server's own paging, and the streaming API.

Polling pages *forward* from the cursor: `min_id=<cursor>` returns the statuses immediately
newer than it, and the Link header's `prev` relation carries on to newer ones, so a poll that
stops at `max_pages` leaves no gap: the next one goes on from there, oldest first. Status ids are
opaque (docs.joinmastodon.org): nothing here compares them. What is newer is what the server's
paging returns; the next cursor is the `min_id` the server's Link `prev` names; the ids returned
lately are kept to drop a status a server returns twice (see cursor.py, which also covers a
timeline that was empty at the first poll).

A `tags:a,b` source is one call with `any[]` where the instance takes it (Mastodon), and one call
per tag where it would answer with the first tag only (Takahē, GoToSocial): asked once a day.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

import httpx

from app.platforms.base import MENTIONS, AccountContext, FeedSource, PlatformError, Post, PostChange
from app.platforms.handles import bare_handle
from app.platforms.mastodon.client import MastodonClient
from app.platforms.mastodon.cursor import (
    SourceCursor,
    TimelineState,
    created_at,
    newer_position,
    older_position,
)
from app.platforms.mastodon.normalize import status_to_post
from app.platforms.mastodon.sources import Query, any_supported, one_tag_endpoint, split_tags, timeline_endpoint
from app.platforms.mastodon.streaming import stream_sources

log = logging.getLogger("reposter.platforms.mastodon")

# How long what an instance said about `any[]` is trusted (servers get upgraded).
ANY_CHECK_SECONDS = 86_400


@dataclass
class Walk:
    """What one read from the top (newest first) returned and where it stopped."""

    items: list[dict[str, Any]] = field(default_factory=list)  # newest first
    top: str | None = None  # the server's `min_id` above the first page
    rest: str | None = None  # the `max_id` still to read below, when max_pages stopped it
    pages: int = 0


class MastodonFeedSource(FeedSource):
    """Reads one account's timelines on its instance."""

    def __init__(self, ctx: AccountContext, http: httpx.AsyncClient) -> None:
        self.api = MastodonClient(ctx, http)
        self._user_ids: dict[str, str] = {}

    async def fetch(self, source: str, cursor: str | None) -> tuple[list[Post], str | None]:
        """Posts newer than `cursor`, oldest first, and the position to pass next time."""
        position = SourceCursor.decode(cursor) or SourceCursor()
        path, params = await self.endpoint(source)  # refuses a source the instance cannot serve
        tags = split_tags(source) if source.partition(":")[0] in ("tag", "tags") else []
        if len(tags) > 1 and not await self._takes_any(position):
            statuses = await self._per_tag(tags, position)
        else:
            statuses, position.state = await self._read(path, params, position.combined())
            position.tags = None
        if source == MENTIONS:  # notifications, paged as a timeline is; each carries the status
            statuses = [n["status"] for n in statuses
                        if n.get("type") == "mention" and isinstance(n.get("status"), dict)]
        encoded = position.encode()
        if not statuses and encoded == cursor:
            return [], cursor
        # The account's own statuses (its boosts, its quotes) are never candidates: a quote that
        # carries the watched hashtag would otherwise be quoted again, and again.
        return [self._stamped(status_to_post(s)) for s in statuses if not self.api.is_own(s["account"])], encoded

    def _stamped(self, post: Post) -> Post:
        """The post, marked with the instance whose id it carries (ids are each instance's own)."""
        post.ref["instance"] = self.api.host
        return post

    async def _per_tag(self, tags: list[str], position: SourceCursor) -> list[dict[str, Any]]:
        """One timeline call per tag (the instance ignores `any[]`); a status with two tags once."""
        states: dict[str, TimelineState] = {}
        found: dict[str, dict[str, Any]] = {}
        for tag in tags:
            path, params = one_tag_endpoint(tag)
            statuses, states[tag] = await self._read(path, params, position.for_tag(tag))
            found.update({str(s["id"]): s for s in statuses if str(s["id"]) not in found})
        position.tags, position.state = states, None
        return list(found.values())

    async def _takes_any(self, position: SourceCursor) -> bool:
        """Whether the instance takes `any[]` (the config says, else it was asked lately, else ask)."""
        if self.api.config.tag_any is not None:
            return self.api.config.tag_any
        now = time.time()
        if position.any_tags is not None and now - (position.checked_at or 0) < ANY_CHECK_SECONDS:
            return position.any_tags
        try:
            instance = await self.api.call("GET", "/api/v1/instance")
            version = instance.get("version") if isinstance(instance, dict) else None
        except PlatformError as exc:
            log.warning("mastodon: instance version unknown; one call per tag", extra={"error": str(exc)})
            version = None
        position.any_tags, position.checked_at = any_supported(version), now
        if not position.any_tags:
            log.info("mastodon: the instance does not take any[]; one call per tag",
                     extra={"version": version, "base_url": self.api.config.base_url})
        return position.any_tags

    async def _read(self, path: str, params: Query, state: TimelineState | None) -> tuple[list[dict], TimelineState]:
        """One timeline's new statuses (oldest first) and its next state."""
        params = [*params, ("limit", str(self.api.config.page_size))]
        if state is None:  # a first poll: the newest page only (history is not news)
            page = await self.api.page(path, params)
            if not page.items:  # empty: everything that comes later is new
                return [], TimelineState(since=time.time())
            state = TimelineState(min_id=newer_position(page.links, page.items))
            return self._unseen(state, list(reversed(page.items))), state
        budget, found = self.api.config.max_pages, []
        if state.min_id is None or state.gap is not None:
            walk = await self._down(path, params, state.gap, state.floor(), budget)
            budget -= walk.pages
            found += reversed(walk.items)
            state.gap = walk.rest
            if state.min_id is None:  # the walk started at the top: nothing above it is unread
                state.min_id = walk.top
                return self._unseen(state, found), state
        statuses, state.min_id = await self._up(path, params, state.min_id, max(1, budget))
        return self._unseen(state, found + statuses), state

    async def _down(self, path: str, params: Query, max_id: str | None, floor: float | None, budget: int) -> Walk:
        """Read newest first from the top (or below `max_id`), following Link `next`, to the
        bottom, to a page wholly older than `floor`, or to `budget` pages."""
        walk = Walk()
        url, query = path, ([*params, ("max_id", max_id)] if max_id else params)  # type: str, Query | None
        for walk.pages in range(1, budget + 1):
            page = await self.api.page(url, query)
            if max_id is None and walk.pages == 1:
                walk.top = newer_position(page.links, page.items)
            kept = [s for s in page.items if floor is None or (created_at(s) or floor) >= floor]
            walk.items += kept
            older = page.links.get("next")
            if len(page.items) < self.api.config.page_size or older is None or not kept:
                return walk
            url, query = older, None  # the Link URL carries every parameter
        walk.rest = older_position(page.links, page.items)
        log.info("mastodon: max_pages reached reading down; the rest is read next poll", extra={"path": path})
        return walk

    async def _up(self, path: str, params: Query, min_id: str, budget: int) -> tuple[list[dict[str, Any]], str | None]:
        """Statuses after `min_id` (oldest first), following Link `prev` (newer) until a short
        page, and the server's `min_id` above the newest page read."""
        collected: list[dict[str, Any]] = []
        newest: str | None = min_id
        url: str = path
        query: Query | None = [*params, ("min_id", min_id)]
        for _ in range(budget):
            page = await self.api.page(url, query)
            if not page.items:
                break
            collected += reversed(page.items)  # each page lists newest first
            newest = newer_position(page.links, page.items)
            newer = page.links.get("prev")
            if len(page.items) < self.api.config.page_size or newer is None:
                break
            url, query = newer, None
        return collected, newest

    @staticmethod
    def _unseen(state: TimelineState, statuses: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The statuses not returned lately (nor twice in this list); remembers them."""
        seen, fresh = set(state.seen), []
        for status in statuses:
            sid = str(status["id"])
            if sid not in seen:
                seen.add(sid)
                fresh.append(status)
        state.remember([str(s["id"]) for s in fresh])
        return fresh

    async def endpoint(self, source: str) -> tuple[str, Query]:
        """The timeline path and query parameters a source string names."""
        kind, _, handle = source.partition(":")
        if kind == "user" and handle:
            return f"/api/v1/accounts/{await self._user_id(handle)}/statuses", []
        return timeline_endpoint(source)

    async def _user_id(self, handle: str) -> str:
        """The account id of `handle` (`alice` or `alice@other.example`), looked up once."""
        acct = bare_handle(handle)
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

    async def stream(self, sources: list[str]) -> AsyncGenerator[Post | PostChange, None]:
        """Posts pushed by the streaming API (server-sent events) for `sources`, each once, and the
        deletions and edits it announces."""
        async for post in stream_sources(self.api, sources):
            if isinstance(post, PostChange):
                fresh = self._stamped(post.post) if post.post is not None else None
                yield post.model_copy(update={"post": fresh, "ref": {"instance": self.api.host}})
            elif not self.api.is_own({"id": post.author.id, "acct": post.author.handle}):
                yield self._stamped(post)
