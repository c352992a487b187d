"""What the contract suite needs from each platform: a fake server and a way to drive it.

Each platform provides `tests/platforms/harness_<name>.py` with a `make_harness()` returning a
Harness. For real platforms the fake server is an `httpx.MockTransport` answering with payloads
shaped exactly as the platform documents them (validated against tests/platforms/specs);
for `mock` it is the in-process world.
"""

from __future__ import annotations

from typing import Protocol

import httpx

from app.platforms.base import AccountContext, Platform

# Kinds of post a harness can publish on its fake server.
POST_KINDS = ("plain", "reply", "repost", "quote", "media_links")


class Harness(Protocol):
    name: str
    platform: Platform
    # A source string this platform supports and that add_posts() publishes into.
    source: str
    # Every request the adapter sent (empty for mock); the contract suite validates them.
    requests: list[httpx.Request]

    def context(self) -> AccountContext:
        """An account context with valid credentials; config page_size=2 so pagination shows."""

    def http(self) -> httpx.AsyncClient:
        """A client whose transport is the fake server (no network)."""

    def add_post(self, kind: str, *, text: str = "hello #coffee world") -> str:
        """Publish one post of `kind` (one of POST_KINDS) into `source`; return its platform id.
        kinds: plain (text with #coffee and @alice mention), reply (reply to handle 'bob'),
        repost (a repost of someone's post), quote (quoting another post),
        media_links (one image and a link to https://example.com/page)."""

    def fail_next(self, status: int, headers: dict[str, str] | None = None, times: int = 1) -> None:
        """The next `times` requests answer `status` with `headers` (and a documented error body)."""

    def is_reposted(self, post_id: str) -> bool:
        """Whether the fake server holds a repost of `post_id` by the account."""

    def set_followers(self, handles: list[str]) -> None:
        """The fake server's followers of the account (handles, without @)."""

    def validate_requests(self) -> None:
        """Assert every request sent matches the platform's published contract (method, path,
        parameters, body). A no-op for mock."""
