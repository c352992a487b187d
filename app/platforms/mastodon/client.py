"""MastodonClient: one account's authorized calls to its instance, with Link-header paging."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.platforms.authorized import AuthorizedClient, config_of
from app.platforms.base import SHARED_BUCKET, AccountContext, PlatformError
from app.platforms.handles import handle_key
from app.platforms.http import PlatformHTTP

PLATFORM = "mastodon"


class MastodonConfig(BaseModel):
    """An account's Mastodon settings (AccountContext.config)."""

    model_config = ConfigDict(extra="ignore")

    base_url: str = Field(description="The instance, e.g. https://mastodon.social")
    # Statuses per timeline request; Mastodon allows at most 40.
    page_size: int = Field(default=40, ge=1, le=40)
    # Pages one poll may read before it stops; the cursor makes the next poll go on from there.
    max_pages: int = Field(default=10, ge=1)
    # Pages of followers / following / list members (80 accounts each) read at most.
    max_account_pages: int = Field(default=500, ge=1)
    # Where the streaming API lives when not on base_url (Instance.configuration.urls.streaming).
    streaming_url: str | None = None
    # Quote with Mastodon 4.5's `quoted_status_id` as well as a link to the post.
    native_quotes: bool = True
    # Whether the instance takes `any[]` on tag timelines (several tags in one call). None: ask
    # the instance once a day (Mastodon itself does; Takahē and GoToSocial answer with the first
    # tag only, so their tags are read one call each).
    tag_any: bool | None = None

    @field_validator("base_url", "streaming_url")
    @classmethod
    def _normalize_url(cls, value: str | None) -> str | None:
        return normalize_instance(value) if value else value

    @field_validator("base_url")
    @classmethod
    def _base_url_has_host(cls, value: str) -> str:
        # Without a host every request would go to a relative URL and fail (UnsupportedProtocol).
        try:
            host = httpx.URL(value).host
        except httpx.InvalidURL:
            host = ""
        if not host:
            raise ValueError("needs the instance's URL, e.g. https://mastodon.social")
        return value

    @classmethod
    def of(cls, config: dict[str, Any]) -> MastodonConfig:
        """The account's config; a PlatformError naming each fault, e.g. without `base_url`."""
        return config_of(cls, config, PLATFORM)


def normalize_instance(url: str) -> str:
    """`mastodon.social`, `https://mastodon.social/` -> `https://mastodon.social`."""
    url = url.strip().rstrip("/")
    if "://" not in url:
        url = f"https://{url}"
    return url


@dataclass
class Page:
    """One page of a paginated list and the Link header's relations (`next`, `prev`)."""

    items: list[dict[str, Any]]
    links: dict[str, str]


# docs.joinmastodon.org/api/rate-limits: every call of an account spends one budget (300 per 5
# minutes), so a 429 holds its polls and sends alike; deleting and unboosting statuses also have
# their own 30 per 30 minutes, which holds only those.
DELETES_BUCKET = "deletes"


def mastodon_bucket(method: str, path: str) -> str:
    """The Mastodon rate-limit bucket of a call: the account's shared one, or deletes/unboosts."""
    deleting = method == "DELETE" and path.startswith("/api/v1/statuses/")
    if deleting or (method == "POST" and path.endswith("/unreblog")):
        return DELETES_BUCKET
    return SHARED_BUCKET


class MastodonClient(AuthorizedClient):
    """Authorized JSON calls for one account; every failure surfaces as a PlatformError.

    Mastodon's OAuth tokens do not expire: nothing is renewed, a refused token needs its owner.
    """

    platform = PLATFORM
    empty_is_object = False  # every Mastodon call reposter makes answers with an entity

    def __init__(self, ctx: AccountContext, http: httpx.AsyncClient) -> None:
        self.config = MastodonConfig.of(ctx.config)
        super().__init__(ctx, PlatformHTTP(http, self.config.base_url, platform=PLATFORM, bucket=mastodon_bucket))
        self.host = httpx.URL(self.config.base_url).host
        self._own_id = ctx.platform_user_id

    async def page(self, path: str, params: Any = None) -> Page:
        """GET one page of a list; `path` may be a Link URL on the same instance."""
        self._check_origin(path)
        response = await self.send("GET", path, params=params)
        items = self.json(response)
        if not isinstance(items, list):
            raise PlatformError(f"mastodon: expected a list from GET {httpx.URL(path).path}", retryable=False)
        links = {rel: link["url"] for rel, link in response.links.items() if rel and link.get("url")}
        return Page(items=items, links=links)

    async def pages(self, path: str, params: Any, *, max_pages: int) -> AsyncIterator[Page]:
        """Pages from `path` onwards, following the Link header's `next` (older) relation."""
        url: str | None = path
        for _ in range(max_pages):
            if url is None:
                return
            page = await self.page(url, params)
            yield page
            url, params = (page.links.get("next") if page.items else None), None

    async def own_id(self) -> str:
        """The account's id on its instance (from the context, else from verify_credentials)."""
        if self._own_id is None:
            me = await self.call("GET", "/api/v1/accounts/verify_credentials")
            self._own_id = str(me["id"])
        return self._own_id

    def is_own(self, account: dict[str, Any]) -> bool:
        """Whether an Account entity (`id`, `acct`) is this account, by id or else by handle."""
        if self._own_id is not None:
            return str(account.get("id")) == self._own_id
        acct = str(account.get("acct", "")).lower()
        handle = handle_key(self.ctx.handle)
        return bool(acct) and handle in (acct, f"{acct}@{httpx.URL(self.config.base_url).host}")

    def _check_origin(self, url: str) -> None:
        """Never send the account's token to a host other than its instance."""
        if url.startswith("http") and httpx.URL(url).host != httpx.URL(self.config.base_url).host:
            raise PlatformError(f"mastodon: pagination link leads off the instance ({httpx.URL(url).host})")

