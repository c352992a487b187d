"""Polling Bluesky feeds (search, tags, an author, the timeline, a list) and Jetstream push."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from app.platforms.base import MENTIONS, FeedSource, PlatformError, Post
from app.platforms.bluesky import graph
from app.platforms.bluesky.config import BlueskyConfig
from app.platforms.bluesky.cursor import FeedCursor, Item, Walk, ms_to_iso, to_ms
from app.platforms.bluesky.jetstream import Connect, JetstreamReader, StreamFilter, words
from app.platforms.bluesky.normalize import parse_datetime, post_from_feed_item, post_from_view
from app.platforms.bluesky.profiles import POLL_AUTHOR_MAX_AGE, STREAM_AUTHOR_MAX_AGE, ProfileCache, hydrate
from app.platforms.bluesky.xrpc import XrpcClient
from app.platforms.handles import bare_handle

log = logging.getLogger("reposter.platforms.bluesky")

SOURCE_KINDS = ("search", "tag", "user", "home", "list", MENTIONS)
# Notifications that are posts addressed to the account: read for stop words (`mentions` source).
MENTION_REASONS = ("mention", "reply")
SEARCH_KINDS = ("search", "tag")


@dataclass(frozen=True)
class Source:
    """A parsed source string: `tag:coffee` -> Source("tag", "coffee")."""

    kind: str
    arg: str


def parse_source(source: str) -> Source:
    """Parse a source string; PlatformError (not retryable) for kinds Bluesky cannot serve."""
    kind, _, arg = source.partition(":")
    kind, arg = kind.strip().lower(), arg.strip()
    if kind == "tag":
        arg = arg.lstrip("#")
    if kind not in SOURCE_KINDS or (kind not in ("home", MENTIONS) and not arg) or (kind == MENTIONS and arg):
        raise PlatformError(
            f"bluesky: unsupported source {source!r} (use one of {', '.join(SOURCE_KINDS)})", retryable=False
        )
    return Source(kind, arg)


def sort_time(view: dict[str, Any]) -> int:
    """A post's place in feeds and search (the AppView's sortAt): min(createdAt, indexedAt)."""
    times = [parse_datetime((view.get("record") or {}).get("createdAt")), parse_datetime(view.get("indexedAt"))]
    known = [to_ms(t) for t in times if t is not None]
    return min(known) if known else 0


class BlueskyFeedSource(FeedSource):
    """Reads one account's Bluesky sources."""

    def __init__(self, xrpc: XrpcClient, config: BlueskyConfig, profiles: ProfileCache, connect: Connect | None = None):
        self.xrpc = xrpc
        self.config = config
        self.profiles = profiles
        self.connect = connect
        self.stream_cursor: int | None = config.jetstream_cursor

    async def fetch(self, source: str, cursor: str | None) -> tuple[list[Post], str | None]:
        """Posts newer than `cursor`, oldest first, and the next cursor (see cursor.py)."""
        src = parse_source(source)
        overlap = self.config.overlap_seconds * 1000
        state = FeedCursor.decode(cursor)
        if state is None:
            items, _ = await self._page(src)
            return await self._posts(items), FeedCursor.start(items, datetime.now(UTC), overlap).encode()
        new = await self._fill_gaps(src, state, overlap)
        head = await self._walk(src, state.floor(overlap), lambda item: state.accepts(item, overlap))
        state.open_gap(head, overlap)
        state.remember(head.items, overlap)
        new += head.items
        encoded = state.encode()
        if not new and encoded == cursor:
            return [], cursor
        return await self._posts(new), encoded

    async def _fill_gaps(self, src: Source, state: FeedCursor, overlap: int) -> list[Item]:
        """Read what earlier polls left unread (see cursor.py), oldest gap first."""
        found: list[Item] = []
        gaps, state.gaps = state.gaps, []
        for gap in gaps:
            page = None if src.kind in SEARCH_KINDS else gap.page  # search re-reads by `until`
            walk = await self._walk(src, gap.floor, gap.accepts, page=page, until=gap.until)
            found += walk.items
            if (rest := gap.after(walk)) is not None:
                state.gaps.append(rest)
        state.remember(found, overlap)  # so the head walk cannot return them again
        return found

    async def _walk(
        self,
        src: Source,
        floor: int,
        accepts: Callable[[Item], bool],
        *,
        page: str | None = None,
        until: int | None = None,
    ) -> Walk:
        """Read newest-first from `page` until an item older than `floor`, the end, or max_pages."""
        walk = Walk()
        for _ in range(self.config.max_pages):
            items, page = await self._page(src, page=page, since=floor, until=until)
            for item in items:
                walk.read(item)
                if accepts(item):
                    walk.items.append(item)
            if not items or not page or min(i.time for i in items) < floor:
                return walk
        walk.complete, walk.page = False, page
        log.warning(
            "bluesky: max_pages reached before the cursor; the rest is read next poll", extra={"source": src.kind}
        )
        return walk

    async def _page(
        self, src: Source, *, page: str | None = None, since: int | None = None, until: int | None = None
    ) -> tuple[list[Item], str | None]:
        """One page of a source as Items, and the platform's cursor for the next page."""
        nsid, params, field, public = self._request(src)
        if src.kind == "list":
            params["list"] = await graph.resolved_list_uri(self.xrpc, params["list"])
        params.update(limit=self.config.page_size, cursor=page)
        if src.kind in SEARCH_KINDS:
            params.update(
                since=None if since is None else ms_to_iso(since),
                until=None if until is None else ms_to_iso(until + 1),  # `until` is exclusive
            )
        body = await self.xrpc.query(nsid, params, public=public)
        entries = body.get(field) or []
        items = [item for entry in entries if (item := self._item(entry, field)) is not None]
        return items, body.get("cursor")

    def _request(self, src: Source) -> tuple[str, dict[str, Any], str, bool]:
        """(XRPC method, parameters, list field, public) for a source."""
        if src.kind == "search":
            return "app.bsky.feed.searchPosts", {"q": src.arg, "sort": "latest"}, "posts", False
        if src.kind == "tag":
            return "app.bsky.feed.searchPosts", {"q": f"#{src.arg}", "tag": [src.arg], "sort": "latest"}, "posts", False
        if src.kind == "user":
            params = {"actor": bare_handle(src.arg), "filter": "posts_with_replies"}
            return "app.bsky.feed.getAuthorFeed", params, "feed", True
        if src.kind == "list":
            return "app.bsky.feed.getListFeed", {"list": graph.list_at_uri(src.arg)}, "feed", True
        if src.kind == MENTIONS:
            reasons: dict[str, Any] = {"reasons": list(MENTION_REASONS)}
            return "app.bsky.notification.listNotifications", reasons, "notifications", False
        return "app.bsky.feed.getTimeline", {}, "feed", False

    @staticmethod
    def _item(entry: dict[str, Any], field: str) -> Item | None:
        """An Item from a postView (search) or a feedViewPost (feeds); None if malformed."""
        try:
            if field == "notifications":  # uri, cid, author, record, indexedAt: what a postView holds
                if entry.get("reason") not in MENTION_REASONS:
                    return None
                post = post_from_view(entry)
                return Item(post.id, sort_time(entry), post)
            if field == "posts":
                post = post_from_view(entry)
                return Item(post.id, sort_time(entry), post)
            post = post_from_feed_item(entry)
            reason = entry.get("reason") or {}
            when = parse_datetime(reason.get("indexedAt")) if post.is_repost else None
            return Item(post.id, to_ms(when) if when else sort_time(entry["post"]), post)
        except (KeyError, TypeError, ValidationError) as exc:
            log.warning("bluesky: malformed feed entry skipped", extra={"error": type(exc).__name__})
            return None

    async def _posts(self, items: list[Item]) -> list[Post]:
        """The items' posts, oldest first, completed from profiles when configured."""
        posts = [item.post for item in sorted(items, key=lambda i: (i.time, i.key))]
        if self.config.hydrate_authors and posts:
            await hydrate(posts, self.profiles, self._get_profiles, POLL_AUTHOR_MAX_AGE)
        return posts

    async def _get_profiles(self, actors: list[str]) -> list[dict[str, Any]]:
        """app.bsky.actor.getProfiles for up to 25 actors."""
        body = await self.xrpc.query("app.bsky.actor.getProfiles", {"actors": actors}, public=True)
        return body.get("profiles") or []

    async def stream(self, sources: list[str]) -> AsyncGenerator[Post, None]:
        """Posts pushed by Jetstream that belong to `sources`; resumes from `stream_cursor`."""
        reader = JetstreamReader(
            self.config.jetstream_url,
            await self.stream_filter(sources),
            connect=self.connect,
            cursor_us=self.stream_cursor,
            rewind_us=int(self.config.jetstream_rewind_seconds * 1_000_000),
            account_id=self.xrpc.ctx.account_id,
        )
        async for post in reader.posts():
            self.stream_cursor = reader.cursor_us
            if self.config.hydrate_authors:
                await hydrate([post], self.profiles, self._get_profiles, STREAM_AUTHOR_MAX_AGE)
            yield post

    async def stream_filter(self, sources: list[str]) -> StreamFilter:
        """What the sources ask of the stream: tags, words, and the DIDs of the people named."""
        wanted = StreamFilter(everything=not sources)
        for src in map(parse_source, sources):
            if src.kind == "tag":
                wanted.tags.add(src.arg.lower())
            elif src.kind == "search":
                wanted.queries.append(words(src.arg))
            elif src.kind == "user":
                wanted.dids.add(await self._resolve(bare_handle(src.arg)))
            elif src.kind == "home":
                wanted.dids |= {a for a in await graph.follows(self.xrpc) if a.startswith("did:")}
            elif src.kind == MENTIONS:
                continue  # polled only (app/pipeline/streamer.py leaves it out)
            else:
                wanted.dids |= {a for a in await graph.list_members(self.xrpc, src.arg) if a.startswith("did:")}
        return wanted

    async def _resolve(self, actor: str) -> str:
        """A handle's DID (a DID is returned as it is)."""
        if actor.startswith("did:"):
            return actor
        body = await self.xrpc.query("com.atproto.identity.resolveHandle", {"handle": actor}, public=True)
        return body["did"]
