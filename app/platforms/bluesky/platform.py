"""The Bluesky platform: registered as `bluesky`, one instance per process."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import httpx

from app.platforms.base import AccountContext, ConnectedAccount, ConnectWarning, Platform, PlatformError
from app.platforms.bluesky.actions import BlueskyActionClient
from app.platforms.bluesky.config import BlueskyConfig, load_config
from app.platforms.bluesky.feed import SOURCE_KINDS, BlueskyFeedSource
from app.platforms.bluesky.jetstream import Connect
from app.platforms.bluesky.profiles import ProfileCache
from app.platforms.bluesky.xrpc import WRITE_BUCKET, XrpcClient

log = logging.getLogger("reposter.platforms.bluesky")

PROFILE = "app.bsky.actor.profile"
SELF_LABELS = "com.atproto.label.defs#selfLabels"


class BlueskyPlatform(Platform):
    """Bluesky through the account's PDS (XRPC), with Jetstream for push."""

    name: ClassVar[str] = "bluesky"
    # AppView reads: 3,000 per 5 minutes per IP, shared by every account behind it; one a second
    # each leaves room for a few dozen accounts per worker address (the 429s tell the rest)
    calls_per_second: ClassVar[float | None] = 1.0
    reads_mentions: ClassVar[bool] = True
    # A repost record names its subject; deleting the post leaves our repost pointing at nothing.
    reposts_outlive_originals: ClassVar[bool] = True
    # a handle is a domain name: `*.spam.example` blocks every handle under spam.example
    handles_have_domains: ClassVar[bool] = True
    # Writes cost points: a create 3, a delete 1; 5,000 points an hour and 35,000 a day per
    # account, so creates alone reach 1,666 an hour and 11,666 a day at most. `windows` are the
    # platform's own (count, seconds) caps per action kind; `require_consent` is Bluesky's rule
    # to act only on posts whose authors opted in (tagged the account, or are on its consent list).
    default_limits: ClassVar[dict[str, Any]] = {
        "max_per_hour": 1666,
        "max_per_day": 11666,
        "min_interval_seconds": 0,
        "require_consent": True,
        "windows": {kind: [(1666, 3600), (11666, 86400)] for kind in ("repost", "quote", "like", "reply")}
        | {"undo": [(5000, 3600), (35000, 86400)]},
    }
    source_kinds: ClassVar[tuple[str, ...]] = SOURCE_KINDS
    can_like: ClassVar[bool] = True
    config_model = BlueskyConfig

    def rate_bucket(self, kind: str) -> str:
        """Every action is a repo write (a record created or deleted): one budget of points."""
        return WRITE_BUCKET

    def __init__(self, websocket_connect: Connect | None = None) -> None:
        self.profiles = ProfileCache()
        self.websocket_connect = websocket_connect

    def feed_source(self, ctx: AccountContext, http: httpx.AsyncClient) -> BlueskyFeedSource:
        """The FeedSource for one account."""
        config = load_config(ctx)
        return BlueskyFeedSource(XrpcClient(ctx, http, config), config, self.profiles, self.websocket_connect)

    def action_client(self, ctx: AccountContext, http: httpx.AsyncClient) -> BlueskyActionClient:
        """The ActionClient for one account."""
        return BlueskyActionClient(XrpcClient(ctx, http, load_config(ctx)))

    async def connect(self, ctx: AccountContext, http: httpx.AsyncClient) -> ConnectedAccount:
        """Log in with the app password (storing the session), then the `bot` self-label, best-effort."""
        xrpc = XrpcClient(ctx, http, load_config(ctx))
        session = await xrpc.login()
        profile, warning = await label_as_bot(xrpc, session["did"])
        return ConnectedAccount(
            platform_user_id=session["did"], handle=session["handle"], display_name=profile.get("displayName"),
            warnings=[warning] if warning else [],
        )


BOT_LABEL_HOWTO = "send the credentials again (PATCH /api/v1/accounts/{id}) to try once more"


async def label_as_bot(xrpc: XrpcClient, did: str) -> tuple[dict[str, Any], ConnectWarning | None]:
    """Add the `bot` self-label and read the profile back; a ConnectWarning when it was refused or not kept."""
    try:
        await set_bot_label(xrpc, did)
        record = dict((await _profile_record(xrpc, did)).get("value") or {})
    except PlatformError as exc:
        log.warning("bluesky bot label refused", extra={"account": xrpc.ctx.account_id, "status": exc.status})
        return {}, ConnectWarning(code="bot_flag", http_status=exc.status,
                                  message=f"the server refused the bot self-label ({exc}); {BOT_LABEL_HOWTO}")
    if _has_bot_label(record):
        return record, None
    log.warning("bluesky bot label did not stick", extra={"account": xrpc.ctx.account_id})
    message = f"the server accepted the bot self-label but did not keep it; {BOT_LABEL_HOWTO}"
    return record, ConnectWarning(code="bot_flag", message=message)


async def set_bot_label(xrpc: XrpcClient, did: str) -> dict[str, Any]:
    """Add the `bot` self-label to the account's profile record, keeping every other field;
    compare-and-swap on the record's cid so a concurrent profile edit is not overwritten."""
    current = await _profile_record(xrpc, did)
    record: dict[str, Any] = dict(current.get("value") or {})
    if _has_bot_label(record):
        return record
    labels = record.get("labels") or {}
    values = list(labels.get("values") or []) if labels.get("$type") == SELF_LABELS else []
    record.update({"$type": PROFILE, "labels": {"$type": SELF_LABELS, "values": [*values, {"val": "bot"}]}})
    body: dict[str, Any] = {"repo": did, "collection": PROFILE, "rkey": "self", "record": record}
    if current.get("cid"):
        body["swapRecord"] = current["cid"]
    await xrpc.procedure("com.atproto.repo.putRecord", body)
    log.info("bluesky bot label set", extra={"account": xrpc.ctx.account_id})
    return record


def _has_bot_label(record: dict[str, Any]) -> bool:
    labels = record.get("labels") or {}
    return labels.get("$type") == SELF_LABELS and any(v.get("val") == "bot" for v in labels.get("values") or [])


async def _profile_record(xrpc: XrpcClient, did: str) -> dict[str, Any]:
    """The account's profile record ({uri, cid, value}); {} when it has none yet."""
    params = {"repo": did, "collection": PROFILE, "rkey": "self"}
    try:
        return await xrpc.query("com.atproto.repo.getRecord", params)
    except PlatformError as exc:
        if exc.status == 400 and "RecordNotFound" in str(exc):
            return {}
        raise
