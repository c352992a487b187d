"""Account shapes on the API. Credentials are write-only: no read model has them."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.accounts.conditions import current
from app.inputs import MAX_INT
from app.patch import Patch

HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
# A feed source names a cursor row (cursors.source is 512 characters).
Source = Annotated[str, Field(min_length=1, max_length=512)]


class Limits(BaseModel):
    """How fast an account may act. Over a limit, posts wait in the queue; nothing is lost."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)

    max_per_hour: int | None = Field(default=None, ge=1, le=MAX_INT)
    max_per_day: int | None = Field(default=None, ge=1, le=MAX_INT)
    min_interval_seconds: int = Field(default=0, ge=0, le=MAX_INT)
    quiet_hours_start: str | None = Field(default=None, description="HH:MM in the account's time zone")
    quiet_hours_end: str | None = Field(default=None, description="HH:MM; may be before start (overnight)")
    timezone: str = Field(default="UTC", max_length=64)
    max_queue_age_seconds: int | None = Field(default=None, ge=60, le=MAX_INT)

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


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: str = Field(min_length=1, max_length=32)
    handle: str = Field(min_length=1, max_length=255)
    display_name: str | None = Field(default=None, max_length=255)
    credentials: dict[str, Any] = Field(default_factory=dict, description="write-only; encrypted at rest")
    config: dict[str, Any] = Field(default_factory=dict, description="platform settings, e.g. base_url")
    sources: list[Source] = Field(default_factory=list, description="feeds to poll; empty: derived from the rules")
    enabled: bool = True
    limits: Limits | None = None


class AccountUpdate(Patch):
    nullable = frozenset({"display_name"})

    display_name: str | None = Field(default=None, max_length=255)
    credentials: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    sources: list[Source] | None = None
    enabled: bool | None = None
    limits: Limits | None = None


class ConditionRead(BaseModel):
    """One thing the account's owner should know about (app/accounts/conditions.py)."""

    code: str
    severity: str
    message: str
    since: datetime
    updated_at: datetime
    until: datetime | None = None
    http_status: int | None = None
    source: str | None = None
    bucket: str | None = Field(default=None, description="a rate limit's platform bucket")
    holds: str | None = Field(default=None, description="what a rate limit holds: all, sends or polls")


class AccountRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    platform: str
    handle: str
    display_name: str | None
    platform_user_id: str | None
    config: dict[str, Any]
    sources: list[str]
    enabled: bool
    status: str
    status_detail: str | None
    rate_limited_until: datetime | None
    conditions: list[ConditionRead]
    limits: Limits
    has_credentials: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, account: Any) -> AccountRead:
        """Build from the ORM row (limits gathered from their columns)."""
        data = {k: getattr(account, k) for k in cls.model_fields
                if hasattr(account, k) and k not in ("limits", "conditions")}
        # Derived as of now, never written here: a limit that has ended shows as ended even when
        # no job has touched the account since.
        now = current(account)
        data.update(status=now.status, status_detail=now.status_detail, rate_limited_until=now.rate_limited_until)
        data["conditions"] = sorted(now.conditions.values(), key=lambda c: c["code"])
        data["limits"] = Limits.model_validate(account)
        data["has_credentials"] = bool(account.credentials_encrypted)
        return cls(**data)


class ErrorRead(BaseModel):
    """One failure: what kind (timeout, transport, http, rate_limited, credentials, refused, not_found,
    internal, ...), the HTTP status if the platform answered, its message and when it happened."""

    kind: str
    http_status: int | None = None
    message: str
    at: datetime | None = Field(description="null only for errors recorded before times were kept")


class SourceHealth(BaseModel):
    """How one source's polls go. `state`: ok, failing (its last poll failed), never_polled."""

    source: str
    wanted: bool = Field(description="polled now (false: no longer among the account's sources)")
    state: str
    last_polled_at: datetime | None
    last_success_at: datetime | None
    last_error: ErrorRead | None = Field(description="the last failure, kept after a later success")
    consecutive_failures: int
    next_poll_at: datetime | None
    poll_count: int
    error_count: int


class StreamRead(BaseModel):
    """The push feed: off (not asked for), starting (no worker opened it yet), connecting, connected,
    reconnecting (see last_error), unavailable (the server offers none; polling carries the feed),
    stopped (refused credentials)."""

    state: str
    since: datetime | None = None
    connected_at: datetime | None = None
    last_post_at: datetime | None = None
    failures: int = 0
    last_error: ErrorRead | None = None
    message: str | None = None


class RateLimitRead(BaseModel):
    """A platform bucket that is exhausted until `until`, and what it holds meanwhile."""

    bucket: str
    until: datetime | None
    holds: str = Field(description="all (the account's shared budget), sends, or polls (only its own source)")
    holds_sends: bool
    message: str


class RelationHealth(BaseModel):
    """A cached list of people (followers, following, list:<id>, blocked_by) and its last refresh."""

    kind: str
    members: int
    refreshed_at: datetime
    error: str | None


class AccountHealth(BaseModel):
    """Everything that can be wrong with an account, in one answer."""

    account_id: int
    status: str
    status_detail: str | None
    needs_attention: list[ConditionRead] = Field(description="a person must act before the account sends again")
    warnings: list[ConditionRead]
    rate_limits: list[RateLimitRead]
    stream: StreamRead
    sources: list[SourceHealth]
    relations: list[RelationHealth]
    actions_waiting: int = Field(description="queued and due now, or failed with a retry due")
    oldest_waiting_since: datetime | None
