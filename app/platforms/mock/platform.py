"""The mock platform: a real, registered platform whose servers are a World in this process."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field

from app.platforms.authorized import config_of
from app.platforms.base import (
    MENTIONS,
    AccountContext,
    ActionClient,
    Author,
    ConnectedAccount,
    CredentialsInvalid,
    FeedSource,
    Platform,
    PlatformError,
    Post,
    PostGone,
)
from app.platforms.handles import handle_key
from app.platforms.http import RetryPolicy, TryAgain
from app.platforms.mock.world import Failure, World, get_world

T = TypeVar("T")


class MockConfig(BaseModel):
    model_config = ConfigDict(extra="ignore")

    world: str = "default"
    page_size: int = Field(default=100, ge=1)


async def call(world: World, operation: Callable[[], T], retry: RetryPolicy | None = None) -> T:
    """Run one platform operation through the retry loop every adapter uses: same retries, same errors."""
    retry = retry or RetryPolicy()
    if world.stall_seconds:
        await (asyncio.Event().wait() if world.stall_seconds == float("inf") else asyncio.sleep(world.stall_seconds))

    async def attempt() -> T:
        failure = world.take_failure()
        if failure is None:
            return operation()
        raise _error_for(failure, retry)

    return await retry.run(attempt)


def _error_for(failure: Failure, retry: RetryPolicy) -> Exception:
    """What a real adapter raises for this answer. The world fails a call before it acts, so a 5xx
    is safe to repeat whatever the operation (PlatformHTTP's rule for a request never sent)."""
    if failure.status == 429:
        return retry.rate_limited("mock: rate limited", httpx.Headers(failure.headers))
    if failure.status in (401, 403):
        return CredentialsInvalid(f"mock: credentials need attention ({failure.status})", status=failure.status)
    if failure.status >= 500:
        return TryAgain(PlatformError(f"mock: HTTP {failure.status} (server error)", status=failure.status))
    return PlatformError(f"mock: HTTP {failure.status}", retryable=False, status=failure.status)


class MockFeed(FeedSource):
    def __init__(self, ctx: AccountContext, world: World) -> None:
        self.ctx, self.world = ctx, world

    async def fetch(self, source: str, cursor: str | None) -> tuple[list[Post], str | None]:
        """Posts of `source` newer than the cursor (a post sequence number)."""
        return await call(self.world, lambda: self._fetch(source, cursor))

    def _fetch(self, source: str, cursor: str | None) -> tuple[list[Post], str | None]:
        wanted = self._selector(source)
        after = int(cursor) if cursor else 0
        posts = [p for p in self.world.posts if int(p.id) > after and wanted(p)]
        if cursor is None:
            posts = posts[-config_of(MockConfig, self.ctx.config, "mock").page_size :]
        last = max((int(p.id) for p in self.world.posts), default=after)
        return [p.model_copy(deep=True) for p in posts], str(max(last, after))

    def _selector(self, source: str) -> Callable[[Post], bool]:
        kind, _, value = source.partition(":")
        me = self.ctx.handle.lower()
        if kind == "public":
            return lambda p: True
        if kind in ("tag", "tags"):
            tags = {t.strip().lstrip("#").lower() for t in value.split(",") if t.strip()}
            return lambda p: bool(tags & {h.lower() for h in p.hashtags})
        if kind == "user":
            return lambda p: p.author.handle.lower() == handle_key(value)
        if kind == "home":
            return lambda p: (me, p.author.handle.lower()) in self.world.follows
        if kind == "list":
            members = self.world.lists.get(value, set())
            return lambda p: p.author.handle.lower() in members
        if kind == "search":
            needle = value.lower()
            return lambda p: needle in p.text.lower()
        if kind == MENTIONS and not value:  # posts by others that mention the account
            return lambda p: me in p.mentions and p.author.handle.lower() != me
        raise PlatformError(f"mock: unknown source {source!r}", retryable=False)


class MockActions(ActionClient):
    def __init__(self, ctx: AccountContext, world: World) -> None:
        self.ctx, self.world, self.me = ctx, world, ctx.handle.lower()

    def _exists(self, post: Post) -> None:
        if self.world.find(post.id) is None:
            raise PostGone(f"mock: post {post.id} is gone")

    async def repost(self, post: Post) -> str:
        """Boost a post; again is a no-op returning the same id."""

        def op() -> str:
            self._exists(post)
            return self.world.reposts.setdefault((self.me, post.id), f"r{self.world.next_id()}")

        return await call(self.world, op)

    async def undo(self, post: Post, platform_action_id: str | None, kind: str = "repost") -> None:
        """Remove a repost, like or quote; PostGone if it is not there."""

        def op() -> None:
            store = self.world.likes if kind == "like" else self.world.reposts
            if kind in ("quote", "reply"):
                if self.world.find(platform_action_id or "") is None:
                    raise PostGone(f"mock: {kind} already deleted")
                self.world.delete(platform_action_id or "")
                return
            if store.pop((self.me, post.id), None) is None:
                raise PostGone(f"mock: no {kind} of {post.id} to undo")

        await call(self.world, op)

    async def quote(self, post: Post, text: str) -> str:
        """Publish a quote post by the account."""

        def op() -> str:
            self._exists(post)
            return self.world.publish(self.ctx.handle, text, is_quote=True, quoted_post_id=post.id).id

        return await call(self.world, op)

    async def reply(self, post: Post, text: str) -> str:
        """Publish the account's reply to a post (`ref["reply_to_id"]` names it)."""

        def op() -> str:
            self._exists(post)
            return self.world.publish(self.ctx.handle, text, is_reply=True, reply_to_author=post.author.handle,
                                      reply_to_author_id=post.author.id, ref={"reply_to_id": post.id}).id

        return await call(self.world, op)

    async def like(self, post: Post) -> str:
        """Like a post."""

        def op() -> str:
            self._exists(post)
            return self.world.likes.setdefault((self.me, post.id), f"l{self.world.next_id()}")

        return await call(self.world, op)

    async def has_reposted(self, post: Post) -> bool | None:
        """Whether the world holds this account's repost of the post."""
        return await call(self.world, lambda: (self.me, post.id) in self.world.reposts)

    async def fetch_post(self, post: Post) -> Post | None:
        """The post as the world holds it now; None once deleted."""

        def op() -> Post | None:
            found = self.world.find(post.id)
            return found.model_copy(deep=True) if found is not None else None

        return await call(self.world, op)

    async def find_own(self, post: Post, kind: str, *, since: datetime | None = None) -> str | None:
        """This account's repost, like, quote or reply of the post held by the world."""

        def op() -> str | None:
            if kind in ("quote", "reply"):
                mine = [p for p in self.world.posts if p.author.handle.lower() == self.me
                        and (p.quoted_post_id if kind == "quote" else p.ref.get("reply_to_id")) == post.id]
                return mine[0].id if mine else None
            return (self.world.likes if kind == "like" else self.world.reposts).get((self.me, post.id))

        return await call(self.world, op)

    async def followers(self) -> set[str]:
        """Handles (and ids) of the account's followers."""
        return await call(self.world, lambda: self._people(lambda f, t: t == self.me, lambda f, t: f))

    async def following(self) -> set[str]:
        """Handles (and ids) of the people the account follows."""
        return await call(self.world, lambda: self._people(lambda f, t: f == self.me, lambda f, t: t))

    async def list_members(self, list_id: str) -> set[str]:
        """Members of a list."""
        return await call(self.world, lambda: self._with_ids(self.world.lists.get(list_id, set())))

    async def lookup_author(self, name: str) -> Author | None:
        """The world's author with this handle or id; None when there is none."""

        def op() -> Author | None:
            found = self.world.authors.get(name.lower())
            found = found or next((a for a in self.world.authors.values() if a.id.lower() == name.lower()), None)
            return None if found is None else found.model_copy()

        return await call(self.world, op)

    async def blocked_by(self) -> set[str]:
        """Authors who block this account (they opted out of it)."""
        return await call(self.world,
                          lambda: self._people(lambda f, t: t == self.me, lambda f, t: f, self.world.blocks))

    def _people(self, keep, pick, pairs=None) -> set[str]:
        pairs = pairs if pairs is not None else self.world.follows
        return self._with_ids({pick(f, t) for f, t in pairs if keep(f, t)})

    def _with_ids(self, handles: set[str]) -> set[str]:
        ids = {self.world.authors[h].id for h in handles if h in self.world.authors}
        return set(handles) | ids


class MockCredentials(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1)


class MockPlatform(Platform):
    name: ClassVar[str] = "mock"
    default_limits: ClassVar[dict[str, Any]] = {}
    source_kinds: ClassVar[tuple[str, ...]] = ("public", "tag", "tags", "user", "home", "list", "search", MENTIONS)
    config_model = MockConfig
    handles_have_domains: ClassVar[bool] = True  # `name@domain` handles, as on Mastodon
    reads_mentions: ClassVar[bool] = True

    def world(self, ctx: AccountContext) -> World:
        return get_world(config_of(MockConfig, ctx.config, "mock").world)

    def feed_source(self, ctx: AccountContext, http: httpx.AsyncClient) -> FeedSource:
        return MockFeed(ctx, self.world(ctx))

    def action_client(self, ctx: AccountContext, http: httpx.AsyncClient) -> ActionClient:
        return MockActions(ctx, self.world(ctx))

    async def connect(self, ctx: AccountContext, http: httpx.AsyncClient) -> ConnectedAccount:
        """The first connect of a handle signs it up with that token; later ones must match it."""
        world = self.world(ctx)
        try:
            token = MockCredentials.model_validate(ctx.credentials).token
        except ValueError as exc:
            raise CredentialsInvalid("mock: credentials must be {\"token\": \"...\"}") from exc

        def op() -> ConnectedAccount:
            known = world.tokens.setdefault(ctx.handle.lower(), token)
            if known != token:
                raise CredentialsInvalid("mock: wrong token for this account")
            author = world.add_author(ctx.handle, is_bot=True)
            return ConnectedAccount(platform_user_id=author.id, handle=author.handle, display_name=author.display_name)

        return await call(world, op)

    def default_sources(self, ctx: AccountContext, hashtags: list[str]) -> list[str]:
        """The mock polls its whole public timeline: it is small and in memory."""
        return ["public"]
