"""The Mastodon platform: boosts via the REST API of the account's own instance."""

from __future__ import annotations

from typing import Any, ClassVar

import httpx

from app.platforms.base import SHARED_BUCKET, AccountContext, ConnectedAccount, Platform
from app.platforms.mastodon.actions import MastodonActionClient
from app.platforms.mastodon.client import DELETES_BUCKET, MastodonClient, MastodonConfig
from app.platforms.mastodon.feed import MastodonFeedSource
from app.platforms.mastodon.sources import SOURCE_KINDS, fold_tags


class MastodonPlatform(Platform):
    """Mastodon (and servers speaking its API). Credentials: `{"access_token": ...}`;
    config: `{"base_url": "https://instance"}` (see MastodonConfig for the rest)."""

    name: ClassVar[str] = "mastodon"
    config_model: ClassVar[type[MastodonConfig]] = MastodonConfig
    # docs.joinmastodon.org/api/rate-limits: 300 API calls per 5 minutes per account, and
    # deleting or unboosting statuses 30 per 30 minutes (bulk undo must queue, not fail).
    # Mastodon's rate limits: 300 requests per 5 minutes per account (polls share them, so
    # actions keep to 200), and unreblog only 30 per 30 minutes: a bulk undo queues, never fails.
    default_limits: ClassVar[dict[str, Any]] = {
        "windows": {"repost": [(200, 300)], "quote": [(200, 300)], "like": [(200, 300)], "undo": [(30, 1800)]},
    }
    source_kinds: ClassVar[tuple[str, ...]] = SOURCE_KINDS
    can_like: ClassVar[bool] = True

    def rate_bucket(self, kind: str) -> str:
        """Unboosts and deletes have their own 30 per 30 minutes; everything else spends the
        account's shared 300 per 5 minutes."""
        return DELETES_BUCKET if kind in ("undo:repost", "undo:quote") else SHARED_BUCKET

    def feed_source(self, ctx: AccountContext, http: httpx.AsyncClient) -> MastodonFeedSource:
        """The account's timelines."""
        return MastodonFeedSource(ctx, http)

    def action_client(self, ctx: AccountContext, http: httpx.AsyncClient) -> MastodonActionClient:
        """Boosts, favourites, quotes and the follow graph for the account."""
        return MastodonActionClient(ctx, http)

    async def connect(self, ctx: AccountContext, http: httpx.AsyncClient) -> ConnectedAccount:
        """verify_credentials (CredentialsInvalid on a bad token), then set the bot flag if unset."""
        api = MastodonClient(ctx, http)
        me = await api.call("GET", "/api/v1/accounts/verify_credentials")
        if me.get("bot") is not True:
            me = await api.call("PATCH", "/api/v1/accounts/update_credentials", json={"bot": True})
        host = httpx.URL(api.config.base_url).host
        acct = me.get("acct") or me["username"]
        return ConnectedAccount(
            platform_user_id=str(me["id"]),
            handle=acct if "@" in acct else f"{acct}@{host}",
            display_name=me.get("display_name") or None,
        )

    def default_sources(self, ctx: AccountContext, hashtags: list[str]) -> list[str]:
        """Rule hashtags folded five to a tag-timeline call; the home timeline when there are none."""
        return fold_tags(hashtags) or ["home"]
