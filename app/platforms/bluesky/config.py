"""What an account's `config` and `credentials` hold for Bluesky."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.platforms.authorized import config_of
from app.platforms.base import AccountContext, CredentialsInvalid

ACCEPT_LABELERS = "atproto-accept-labelers"
_DID = re.compile(r"did:[a-z]+:[A-Za-z0-9._:%-]{1,2000}")


class BlueskyConfig(BaseModel):
    """Where to talk to and how much to read per poll."""

    model_config = ConfigDict(extra="ignore")

    pds_url: str = "https://bsky.social"
    # Unauthenticated AppView for public reads (author/list feeds, profiles). None: everything
    # goes through the PDS with the session, which proxies app.bsky.* calls to the AppView.
    # Search, the timeline and `viewer` state always go through the PDS: they need the session.
    appview_url: str | None = None
    jetstream_url: str = "wss://jetstream2.us-east.bsky.network/subscribe"
    page_size: int = Field(default=50, ge=1, le=100)
    max_pages: int = Field(default=10, ge=1)
    # Each poll re-reads this many seconds below the newest post seen, so that posts indexed
    # late (sortAt is min(createdAt, indexedAt)) are still caught; the cursor dedupes them.
    overlap_seconds: int = Field(default=30, ge=0, le=3600)
    # Fill followers_count, bio, account age and unknown handles through getProfiles (cached).
    hydrate_authors: bool = True
    # On reconnect Jetstream is replayed from a little before the last event, then deduped.
    jetstream_rewind_seconds: float = Field(default=5.0, ge=0)
    # Jetstream resume point (time_us); the stream updates `BlueskyFeedSource.stream_cursor`.
    jetstream_cursor: int | None = None
    # Labelers whose labels the AppView adds to posts and authors (the atproto-accept-labelers
    # header on every app.bsky.* read); empty: the AppView's default (Bluesky's own moderation).
    labelers: list[str] = Field(default_factory=list, max_length=20)

    @field_validator("labelers")
    @classmethod
    def _dids(cls, value: list[str]) -> list[str]:
        bad = [did for did in value if not _DID.fullmatch(did)]
        if bad:
            raise ValueError(f"labelers must be DIDs (did:plc:..., did:web:...): {bad}")
        return list(dict.fromkeys(value))

    def labeler_headers(self) -> dict[str, str]:
        """The atproto-accept-labelers header naming the configured labelers ({} when none)."""
        return {ACCEPT_LABELERS: ", ".join(self.labelers)} if self.labelers else {}


class BlueskyCredentials(BaseModel):
    """An app password and, once logged in, the session reposter keeps reusing."""

    model_config = ConfigDict(extra="ignore")

    identifier: str
    app_password: str
    access_jwt: str | None = None
    refresh_jwt: str | None = None
    did: str | None = None


def load_config(ctx: AccountContext) -> BlueskyConfig:
    """The account's config, defaults filled; a PlatformError naming each fault when it does not fit."""
    return config_of(BlueskyConfig, ctx.config, "bluesky")


def load_credentials(ctx: AccountContext) -> BlueskyCredentials:
    """The account's credentials; CredentialsInvalid when the app password is missing."""
    data = {"identifier": ctx.handle, **(ctx.credentials or {})}
    if not data.get("app_password"):
        raise CredentialsInvalid("bluesky: credentials need an app_password", status=None)
    return BlueskyCredentials.model_validate(data)
