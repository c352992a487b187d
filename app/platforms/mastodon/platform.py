"""The Mastodon platform: boosts via the REST API of the account's own instance."""

from __future__ import annotations

import contextlib
import logging
from typing import Any, ClassVar

import httpx

from app.platforms.base import SHARED_BUCKET, AccountContext, ConnectedAccount, ConnectWarning, Platform, PlatformError
from app.platforms.handles import instance_of
from app.platforms.mastodon.actions import MastodonActionClient
from app.platforms.mastodon.client import DELETES_BUCKET, MastodonClient, MastodonConfig
from app.platforms.mastodon.feed import MastodonFeedSource
from app.platforms.mastodon.sources import SOURCE_KINDS, fold_tags

log = logging.getLogger("reposter.platforms.mastodon")


class MastodonPlatform(Platform):
    """Mastodon (and servers speaking its API). Credentials: `{"access_token": ...}`;
    config: `{"base_url": "https://instance"}` (see MastodonConfig for the rest)."""

    name: ClassVar[str] = "mastodon"
    # 300 calls per 5 minutes per token, spent by every call (reads and writes alike)
    calls_per_second: ClassVar[float | None] = 1.0
    reads_mentions: ClassVar[bool] = True
    config_model: ClassVar[type[MastodonConfig]] = MastodonConfig

    def same_server(self, config: dict[str, Any], other: dict[str, Any]) -> bool:
        """Mastodon account ids are each instance's own."""
        return _host(config) == _host(other)

    def can_act_on(self, config: dict[str, Any], ref: dict[str, str]) -> bool:
        """Only posts read through the account's own instance (posts pushed in carry none: any)."""
        instance = ref.get("instance")
        return instance is None or instance == _host(config)
    # docs.joinmastodon.org/api/rate-limits: 300 API calls per 5 minutes per account, and
    # deleting or unboosting statuses 30 per 30 minutes (bulk undo must queue, not fail).
    # Mastodon's rate limits: 300 requests per 5 minutes per account (polls share them, so
    # actions keep to 200), and unreblog only 30 per 30 minutes: a bulk undo queues, never fails.
    default_limits: ClassVar[dict[str, Any]] = {
        "windows": {"repost": [(200, 300)], "quote": [(200, 300)], "like": [(200, 300)], "reply": [(200, 300)],
                    "undo": [(30, 1800)]},
    }
    source_kinds: ClassVar[tuple[str, ...]] = SOURCE_KINDS
    can_like: ClassVar[bool] = True
    handles_have_domains: ClassVar[bool] = True

    def rate_bucket(self, kind: str) -> str:
        """Unboosts and deletes have their own 30 per 30 minutes; everything else spends the
        account's shared 300 per 5 minutes."""
        return DELETES_BUCKET if kind in ("undo:repost", "undo:quote", "undo:reply") else SHARED_BUCKET

    def feed_source(self, ctx: AccountContext, http: httpx.AsyncClient) -> MastodonFeedSource:
        """The account's timelines."""
        return MastodonFeedSource(ctx, http)

    def action_client(self, ctx: AccountContext, http: httpx.AsyncClient) -> MastodonActionClient:
        """Boosts, favourites, quotes and the follow graph for the account."""
        return MastodonActionClient(ctx, http)

    async def connect(self, ctx: AccountContext, http: httpx.AsyncClient) -> ConnectedAccount:
        """verify_credentials (CredentialsInvalid on a bad token), then the bot flag, best-effort."""
        api = MastodonClient(ctx, http)
        me = await api.call("GET", "/api/v1/accounts/verify_credentials")
        warning = None if me.get("bot") is True else await set_bot_flag(api)
        host = httpx.URL(api.config.base_url).host
        acct = me.get("acct") or me["username"]
        domains = await own_domains(api, me, ctx.handle)
        return ConnectedAccount(
            platform_user_id=str(me["id"]),
            handle=acct if "@" in acct else f"{acct}@{host}",
            display_name=me.get("display_name") or None,
            # A local account's acct is `alice` on Mastodon and `alice@domain` on Takahē: both name it.
            aliases=[me["username"], *(f"{me['username']}@{d}" for d in sorted(domains))],
            warnings=[warning] if warning else [],
        )

    def home_domain(self, config: dict[str, Any]) -> str | None:
        """The instance's host: `alice@<host>` is the local account `alice`."""
        base_url = config.get("base_url")
        return httpx.URL(base_url).host.lower() if isinstance(base_url, str) and base_url else None

    def default_sources(self, ctx: AccountContext, hashtags: list[str]) -> list[str]:
        """Rule hashtags folded five to a tag-timeline call; the home timeline when there are none."""
        return fold_tags(hashtags) or ["home"]


async def own_domains(api: MastodonClient, me: dict[str, Any], given: str) -> set[str]:
    """The domains a local handle may carry: the API's host, the profile URL's, and when `given`
    names another, the instance's own `domain` (a server whose handles are @alice@example.org
    may serve its API and web pages at social.example.org)."""
    domains = {httpx.URL(api.config.base_url).host, httpx.URL(me.get("url") or api.config.base_url).host}
    wanted = instance_of(given)
    if wanted and wanted not in domains:
        # An older server without v2: the handle is compared with the hosts only.
        with contextlib.suppress(PlatformError):
            domains.add(str((await api.call("GET", "/api/v2/instance")).get("domain") or "").lower())
    return domains - {""}


BOT_FLAG_HOWTO = (
    "tick 'This is an automated account' in the account's profile settings, or log in again with the "
    "whole write scope (reposter mastodon login --scopes 'read write'); then send the credentials again "
    "(PATCH /api/v1/accounts/{id}) to check"
)
# When the server took the call and left the flag off, more scopes cannot help (Takahē 0.11 has no
# such setting at all: the flag is the identity's actor type, which only its admin can change).
BOT_FLAG_IGNORED_HOWTO = (
    "tick 'This is an automated account' in the account's profile settings if the server has it (Takahē "
    "0.11 has none: its admin sets the identity's actor type to Service); then send the credentials "
    "again (PATCH /api/v1/accounts/{id}) to check"
)


async def set_bot_flag(api: MastodonClient) -> ConnectWarning | None:
    """Set the bot flag and read it back; a ConnectWarning when the server refused it or did not keep it.

    Sent as the form value `bot=true` (a server may ignore a JSON `true`). Takahē 0.11 wants the
    whole `write` scope for the call, beyond the documented `write:accounts`, and then leaves the
    flag off whatever is sent: it has no `bot` parameter."""
    try:
        answer = await api.call("PATCH", "/api/v1/accounts/update_credentials", data={"bot": "true"})
        if answer.get("bot") is not True:  # the answer may predate the change: ask once more
            answer = await api.call("GET", "/api/v1/accounts/verify_credentials")
    except PlatformError as exc:
        log.warning("mastodon bot flag refused", extra={"account": api.ctx.account_id, "status": exc.status})
        return ConnectWarning(code="bot_flag", http_status=exc.status,
                              message=f"the server refused to set the bot flag ({exc}); {BOT_FLAG_HOWTO}")
    if answer.get("bot") is True:
        return None
    log.warning("mastodon bot flag did not stick", extra={"account": api.ctx.account_id})
    message = f"the server accepted the bot flag but left it off; {BOT_FLAG_IGNORED_HOWTO}"
    return ConnectWarning(code="bot_flag", message=message)


def _host(config: dict[str, Any] | None) -> str:
    """The instance an account's config names."""
    return httpx.URL(str((config or {}).get("base_url") or "")).host
