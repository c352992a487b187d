"""X (Twitter) through the X API v2, with an OAuth 2.0 user-context token per account.

Credentials: `{access_token, refresh_token, expires_at, client_id, client_secret?}` as
`app.platforms.x.login` makes them, plus `bearer_token` (the app's) for the filtered stream.
Config: `{base_url: "https://api.x.com", page_size, max_pages, ...}` (see XConfig).
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import httpx

from app.platforms.base import (
    MENTIONS,
    SHARED_BUCKET,
    AccountContext,
    ActionClient,
    ConnectedAccount,
    FeedSource,
    Platform,
)
from app.platforms.x.actions import XActions
from app.platforms.x.client import X_ACTION_BUCKETS, XClient, XConfig, data_of
from app.platforms.x.feed import XFeed

log = logging.getLogger("reposter.platforms.x")


class XPlatform(Platform):
    """X: retweets and quotes; never likes (X's automation rules forbid automated likes)."""

    name: ClassVar[str] = "x"
    # recent search, the strictest endpoint a poll uses: 180 calls per 15 minutes per user
    calls_per_second: ClassVar[float | None] = 0.2
    # docs.x.com: POST and DELETE /2/users/:id/retweets allow 50 requests per 15 minutes per user,
    # i.e. one per 18 s. Sends keep 18 s apart through the account's own min_interval_seconds
    # (an account may change it); undos have no account limits, so their 18 s is the platform's
    # own window (1, 18): a bulk undo drains one unretweet per 18 s, never 50 in a burst.
    default_limits: ClassVar[dict[str, Any]] = {
        "min_interval_seconds": 18,
        "windows": {kind: [(50, 900)] for kind in ("repost", "quote", "reply")} | {"undo": [(50, 900), (1, 18)]},
    }
    source_kinds: ClassVar[tuple[str, ...]] = ("search", "tag", "tags", "user", "home", MENTIONS)
    reads_mentions: ClassVar[bool] = True
    can_like: ClassVar[bool] = False
    config_model = XConfig

    def rate_bucket(self, kind: str) -> str:
        """X limits each endpoint apart: retweets, unretweets, new posts... each have their own."""
        return X_ACTION_BUCKETS.get(kind, SHARED_BUCKET)

    def feed_source(self, ctx: AccountContext, http: httpx.AsyncClient) -> FeedSource:
        """The account's X feeds."""
        return XFeed(XClient(ctx, http))

    def action_client(self, ctx: AccountContext, http: httpx.AsyncClient) -> ActionClient:
        """The account's X actions."""
        return XActions(XClient(ctx, http))

    async def connect(self, ctx: AccountContext, http: httpx.AsyncClient) -> ConnectedAccount:
        """Who the token belongs to (GET /2/users/me); CredentialsInvalid when X refuses it.

        X's "Automated" account label is set by the owner in the account's settings; the API
        has no call for it, so it is logged as a reminder rather than set here.
        """
        body = await XClient(ctx, http).call("GET", "/2/users/me", params={"user.fields": "name,username"})
        user = data_of(body, "the account")
        log.info("x account connected; label it Automated in its settings", extra={"handle": user.get("username")})
        return ConnectedAccount(
            platform_user_id=str(user["id"]), handle=user["username"], display_name=user.get("name")
        )
