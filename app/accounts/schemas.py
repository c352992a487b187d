"""Account shapes on the API. Credentials are write-only: no read model has them."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.accounts.conditions import current
from app.inputs import MAX_INT
from app.models.account import DEFAULT_STOP_REPLY, DEFAULT_STOP_WORDS
from app.patch import Patch

HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
# A stop word: one word, or a hashtag (no spaces, no NUL, nothing a matcher would read as a pattern).
STOP_WORD = re.compile(r"^#?[\w-]+$")
# A feed source names a cursor row (cursors.source is 512 characters).
Source = Annotated[str, Field(min_length=1, max_length=512)]


class Limits(BaseModel):
    """How fast an account may act. Over a limit, posts wait in the queue; nothing is lost."""

    model_config = ConfigDict(extra="forbid", from_attributes=True, json_schema_extra={"examples": [
        {"max_per_hour": 6, "max_per_day": 40, "min_interval_seconds": 300, "quiet_hours_start": "22:00",
         "quiet_hours_end": "07:00", "timezone": "Europe/Berlin", "max_queue_age_seconds": 86400}]})

    max_per_hour: int | None = Field(default=None, ge=1, le=MAX_INT, examples=[6],
                                     description="at most this many reposts in any 60 minutes; null: no cap "
                                                 "(a platform's own limit still applies)")
    max_per_day: int | None = Field(default=None, ge=1, le=MAX_INT, examples=[40],
                                    description="at most this many reposts in any 24 hours; null: no cap")
    min_interval_seconds: int = Field(default=0, ge=0, le=MAX_INT, examples=[300],
                                      description="seconds to wait after one repost before the next; 0: none")
    quiet_hours_start: str | None = Field(default=None, examples=["22:00"],
                                          description="HH:MM in the account's time zone: from then nothing is sent "
                                                      "(posts wait); set with quiet_hours_end, or both null")
    quiet_hours_end: str | None = Field(default=None, examples=["07:00"],
                                        description="HH:MM; quiet hours end here, may be before start (overnight)")
    timezone: str = Field(default="UTC", max_length=64, examples=["Europe/Berlin"],
                          description="IANA time zone name the quiet hours are read in")
    max_queue_age_seconds: int | None = Field(default=None, ge=60, le=MAX_INT, examples=[86400],
                                              description="a post that waited longer than this is skipped instead "
                                                          "of sent late; null: it waits as long as it takes")

    @field_validator("quiet_hours_start", "quiet_hours_end")
    @classmethod
    def _hhmm(cls, value: str | None) -> str | None:
        if value is not None and not HHMM.match(value):
            raise ValueError("use HH:MM, 24-hour clock")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: a name too long for a file
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _both_ends(self) -> Limits:
        if (self.quiet_hours_start is None) != (self.quiet_hours_end is None):
            raise ValueError("quiet hours need both quiet_hours_start and quiet_hours_end")
        return self


class StopWords(BaseModel):
    """"Stop" by mention: an author who mentions the account with one of `words` is put on its
    opt-out list at once (RoundTeam's "Stop RT", without a page to visit)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"enabled": True, "words": ["stop", "#nobot", "unsubscribe"], "undo_existing": False, "reply": True,
         "reply_text": DEFAULT_STOP_REPLY}]})

    enabled: bool = Field(default=True, description="read the account's mentions for stop words")
    words: list[str] = Field(default_factory=lambda: list(DEFAULT_STOP_WORDS), min_length=1, max_length=20,
                             examples=[["stop", "#nobot", "unsubscribe"]],
                             description="1-20 words or #hashtags, each 1-50 characters; matched as a whole "
                                         "word, case-insensitive")
    undo_existing: bool = Field(default=False, description="also undo the account's earlier reposts of "
                                                           "whoever says a stop word")
    reply: bool = Field(default=False, description="tell whoever is opted out so, in one reply to their mention "
                                                   "(a post of the account's own; off by default)")
    reply_text: str = Field(default=DEFAULT_STOP_REPLY, min_length=1, max_length=280,
                            examples=[DEFAULT_STOP_REPLY],
                            description="what that reply says: 1-280 characters (Mastodon puts the author's "
                                        "@name before it)")

    @field_validator("reply_text")
    @classmethod
    def _reply_text(cls, text: str) -> str:
        text = text.strip()
        if not text:
            raise ValueError("the reply needs some text")
        if "\x00" in text:
            raise ValueError("the reply may not contain NUL characters")
        return text

    @field_validator("words")
    @classmethod
    def _words(cls, words: list[str]) -> list[str]:
        cleaned = []
        for word in words:
            word = word.strip()
            if not 1 <= len(word) <= 50:
                raise ValueError("each stop word must be 1-50 characters")
            if not STOP_WORD.fullmatch(word):
                raise ValueError(f"{word!r}: a stop word is one word (letters, digits, _ or -), "
                                 "optionally with a leading #")
            cleaned.append(word.lower())
        return list(dict.fromkeys(cleaned))

    @classmethod
    def of(cls, account: Any) -> StopWords:
        """Gather the settings from the account's columns."""
        return cls(enabled=account.stop_words_enabled, words=list(account.stop_words or DEFAULT_STOP_WORDS),
                   undo_existing=account.stop_undo_existing, reply=account.stop_reply,
                   reply_text=account.stop_reply_text or DEFAULT_STOP_REPLY)

    def columns(self) -> dict[str, Any]:
        """The account columns these settings are kept in."""
        return {"stop_words_enabled": self.enabled, "stop_words": self.words,
                "stop_undo_existing": self.undo_existing, "stop_reply": self.reply, "stop_reply_text": self.reply_text}


class AccountCreate(BaseModel):
    """An account to repost from, with the credentials the platform gave for it. A Mastodon one:
    `{"platform": "mastodon", "handle": "ourgroup", "credentials": {"access_token": "..."},
    "config": {"base_url": "https://mastodon.social"}}`."""

    # The examples use the mock platform: they work beside `reposter demo` (and reach no real server).
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"platform": "mock", "handle": "ourgroup", "display_name": "Our Group",
         "credentials": {"token": "tok-ourgroup"}, "sources": [], "enabled": True,
         "limits": {"max_per_hour": 6, "min_interval_seconds": 300}}]})

    platform: str = Field(min_length=1, max_length=32, examples=["mock"],
                          description="where the account lives: mastodon, bluesky, x (mock for trying things out)")
    handle: str = Field(min_length=1, max_length=255, examples=["ourgroup"],
                        description="the account's handle on the platform, as the credentials must prove")
    display_name: str | None = Field(default=None, max_length=255, examples=["Our Group"],
                                     description="a name for people; default: the platform's display name")
    credentials: dict[str, Any] = Field(default_factory=dict, examples=[{"token": "tok-ourgroup"}],
                                        description="write-only, checked with the platform, encrypted at rest: "
                                                    "access_token (Mastodon, X), identifier and app_password "
                                                    "(Bluesky), token (mock)")
    config: dict[str, Any] = Field(default_factory=dict,
                                   description="platform settings, e.g. base_url (the Mastodon instance)")
    sources: list[Source] = Field(default_factory=list, examples=[["home"]],
                                  description="feeds to poll; empty: derived from the rules")
    enabled: bool = Field(default=True, description="false: nothing is polled or sent until enabled")
    limits: Limits | None = Field(default=None, description="how fast it may repost; default: the platform's")
    stop_words: StopWords | None = Field(default=None, description='"stop" by mention; default: on, with '
                                                                   "stop, #nobot and unsubscribe")


class AccountUpdate(Patch):
    """The fields to change; those left out keep their value."""

    nullable = frozenset({"display_name"})

    display_name: str | None = Field(default=None, max_length=255, description="a name for people; null clears it")
    credentials: dict[str, Any] | None = Field(default=None, description="new credentials, checked with the "
                                                                         "platform before they replace the old")
    config: dict[str, Any] | None = Field(default=None, description="platform settings (replaced as a whole)")
    sources: list[Source] | None = Field(default=None, description="feeds to poll (replaced as a whole); "
                                                                   "empty: derived from the rules")
    enabled: bool | None = Field(default=None, description="false pauses polling and sending")
    limits: Limits | None = Field(default=None, description="replaces all limits: a field left out takes its "
                                                            "default, not its old value")
    stop_words: StopWords | None = Field(default=None, description='replaces the "stop" by mention settings as a '
                                                                   "whole")


class ConditionRead(BaseModel):
    """One thing the account's owner should know about (app/accounts/conditions.py)."""

    code: str = Field(description="what it is, e.g. credentials, missing_scope, rate_limited:<bucket>, "
                                  "source_failing:<source>, bot_flag")
    severity: str = Field(description="attention (nothing is sent until a person acts), limit (ends by itself "
                                      "at `until`) or warning (works, but not as expected)")
    message: str = Field(description="what happened and what to do, for people")
    since: datetime = Field(description="when it was first raised (UTC)")
    updated_at: datetime = Field(description="when it was last seen again (UTC)")
    until: datetime | None = Field(default=None, description="when a limit ends by itself (UTC)")
    http_status: int | None = Field(default=None, description="the platform's HTTP status, if it answered")
    source: str | None = Field(default=None, description="the feed source it concerns, if one")
    bucket: str | None = Field(default=None, description="a rate limit's platform bucket")
    holds: str | None = Field(default=None, description="what a rate limit holds: all, sends or polls")


class AccountRead(BaseModel):
    """An account as stored (never its credentials) and its state now."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="the account's id in this service (what /accounts/{account_id} takes)")
    platform: str = Field(description="mastodon, bluesky, x or mock")
    handle: str = Field(description="the handle it was connected under")
    display_name: str | None = Field(description="a name for people")
    platform_user_id: str | None = Field(description="the platform's id of the account, as its credentials proved")
    config: dict[str, Any] = Field(description="platform settings, e.g. base_url")
    sources: list[str] = Field(description="feeds polled; empty: derived from the rules")
    enabled: bool = Field(description="false: nothing is polled or sent")
    status: str = Field(description="active, rate_limited (waits until rate_limited_until) or needs_attention "
                                    "(a person must act: see conditions)")
    status_detail: str | None = Field(description="why it is not active, in a sentence")
    rate_limited_until: datetime | None = Field(description="when sending may go on again (UTC), while rate limited")
    conditions: list[ConditionRead] = Field(description="everything wrong with it now, by code")
    limits: Limits = Field(description="how fast it may repost")
    stop_words: StopWords = Field(description='"stop" by mention: who says one of these words to the account is '
                                              "put on its opt-out list")
    has_credentials: bool = Field(description="whether credentials are stored (they are never shown)")
    created_at: datetime = Field(description="when it was connected (UTC)")
    updated_at: datetime = Field(description="when it last changed (UTC)")

    @classmethod
    def of(cls, account: Any) -> AccountRead:
        """Build from the ORM row (limits gathered from their columns)."""
        data = {k: getattr(account, k) for k in cls.model_fields
                if hasattr(account, k) and k not in ("limits", "conditions", "stop_words")}
        # Derived as of now, never written here: a limit that has ended shows as ended even when
        # no job has touched the account since.
        now = current(account)
        data.update(status=now.status, status_detail=now.status_detail, rate_limited_until=now.rate_limited_until)
        data["conditions"] = sorted(now.conditions.values(), key=lambda c: c["code"])
        data["limits"] = Limits.model_validate(account)
        data["stop_words"] = StopWords.of(account)
        data["has_credentials"] = bool(account.credentials_encrypted)
        return cls(**data)


class ErrorRead(BaseModel):
    """One failure: what kind (timeout, transport, http, rate_limited, credentials, refused, not_found,
    internal, ...), the HTTP status if the platform answered, its message and when it happened."""

    kind: str = Field(description="timeout, transport, http, rate_limited, credentials, refused, not_found, "
                                  "internal, ...")
    http_status: int | None = Field(default=None, description="the platform's HTTP status, if it answered")
    message: str = Field(description="what the platform or the connection said")
    at: datetime | None = Field(description="null only for errors recorded before times were kept")


class SourceHealth(BaseModel):
    """How one source's polls go. `state`: ok, failing (its last poll failed), never_polled."""

    source: str = Field(description="the feed, e.g. home, tag:coffee, list:<id> (each platform names its own)")
    wanted: bool = Field(description="polled now (false: no longer among the account's sources)")
    state: str = Field(description="ok, failing (its last poll failed) or never_polled")
    last_polled_at: datetime | None = Field(description="the last poll, successful or not (UTC)")
    last_success_at: datetime | None = Field(description="the last poll that worked (UTC)")
    last_error: ErrorRead | None = Field(description="the last failure, kept after a later success")
    consecutive_failures: int = Field(description="failed polls in a row; 0 after a success")
    next_poll_at: datetime | None = Field(description="when it is polled next (UTC); later while failing (back-off)")
    poll_count: int = Field(description="polls so far")
    error_count: int = Field(description="failed polls so far")


class StreamRead(BaseModel):
    """The push feed: off (not asked for), starting (no worker opened it yet), connecting, connected,
    reconnecting (see last_error), unavailable (the server offers none; polling carries the feed),
    stopped (refused credentials)."""

    state: str = Field(description="off, starting, connecting, connected, reconnecting, unavailable or stopped")
    since: datetime | None = Field(default=None, description="when it entered this state (UTC)")
    connected_at: datetime | None = Field(default=None, description="when it last connected (UTC)")
    last_post_at: datetime | None = Field(default=None, description="when it last delivered a post (UTC)")
    failures: int = Field(default=0, description="failed connection attempts in a row")
    last_error: ErrorRead | None = Field(default=None, description="why the last attempt failed")
    message: str | None = Field(default=None, description="the state explained, for people")


class RateLimitRead(BaseModel):
    """A platform bucket that is exhausted until `until`, and what it holds meanwhile."""

    bucket: str = Field(description="the platform's rate-limit bucket; `account` is the account's whole budget")
    until: datetime | None = Field(description="when the platform allows calls again (UTC)")
    holds: str = Field(description="all (the account's shared budget), sends, or polls (only its own source)")
    holds_sends: bool = Field(description="whether reposts wait for it")
    message: str = Field(description="what the platform said, for people")


class RelationHealth(BaseModel):
    """A cached list of people (followers, following, list:<id>, blocked_by) and its last refresh."""

    kind: str = Field(description="followers, following, list:<id> or blocked_by")
    members: int = Field(description="people in the cached list")
    refreshed_at: datetime = Field(description="when it was last fetched (UTC)")
    error: str | None = Field(description="why the last refresh failed, if it did")


class AccountHealth(BaseModel):
    """Everything that can be wrong with an account, in one answer."""

    account_id: int = Field(description="the account")
    status: str = Field(description="active, rate_limited or needs_attention (as on the account)")
    status_detail: str | None = Field(description="why it is not active, in a sentence")
    needs_attention: list[ConditionRead] = Field(description="a person must act before the account sends again")
    warnings: list[ConditionRead] = Field(description="it works, but not as the owner expects")
    rate_limits: list[RateLimitRead] = Field(description="platform buckets exhausted now, with their reset times")
    stream: StreamRead = Field(description="the push feed")
    sources: list[SourceHealth] = Field(description="each polled feed")
    relations: list[RelationHealth] = Field(description="the cached lists of people the rules' scopes use")
    actions_waiting: int = Field(description="queued and due now, or failed with a retry due")
    oldest_waiting_since: datetime | None = Field(description="when the oldest of those was created (UTC)")
    undos_waiting: int = Field(default=0, description="reposts whose undo was asked for and is not carried out yet "
                                                      "(status undoing: within the platform's undo limits, or "
                                                      "retried after an error)")
