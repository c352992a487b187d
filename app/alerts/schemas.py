"""Alert shapes on the API. A subscription's secret is in the answer that makes (or renews) it, and
never again; a webhook URL (a chat's URL is its own key) is shown cut after its first path segment."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.inputs import Id
from app.models.alert import AlertChannel, AlertFormat, AlertKind
from app.patch import Patch

EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
WEEK = 7 * 24 * 60


def checked_url(value: str | None) -> str | None:
    """An absolute http(s) URL with a host, or a clear error."""
    if value is None:
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as exc:
        raise ValueError(f"not a URL: {exc}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("the URL must be absolute, http:// or https://, with a host")
    if any(c.isspace() for c in value):
        raise ValueError("the URL cannot contain spaces")
    return value


def checked_email(value: str | None) -> str | None:
    if value is not None and not EMAIL.match(value):
        raise ValueError("not an email address (name@example.org)")
    return value


def masked(url: str | None) -> str | None:
    """The URL up to its first path segment (`https://hooks.slack.com/services/…`)."""
    if not url:
        return url
    parts = urlsplit(url)
    first = parts.path.strip("/").split("/")[0]
    cut = parts.path.strip("/") != first or bool(parts.query)
    return f"{parts.scheme}://{parts.netloc}/{first}" + ("/…" if cut else "")


class AlertSubscriptionCreate(BaseModel):
    """Who is told, how, and about what."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"account_id": 1, "name": "ops channel", "url": "https://hooks.slack.com/services/T0/B0/XXX",
         "format": "slack", "review_minutes": 30},
        {"name": "on-call", "channel": "email", "email_to": "oncall@example.org"}]})

    account_id: Id | None = Field(default=None, description="the account watched; null: every account (admins)")
    name: str = Field(min_length=1, max_length=100, description="a name for people")
    channel: AlertChannel = Field(default=AlertChannel.webhook, description="webhook or email (needs SMTP)")
    url: str | None = Field(default=None, max_length=2000, description="the webhook's http(s) URL")
    format: AlertFormat = Field(default=AlertFormat.json, description="json | slack | discord | matrix")
    email_to: str | None = Field(default=None, max_length=320, description="the address emails go to")
    kinds: list[AlertKind] = Field(default_factory=lambda: list(AlertKind), min_length=1, max_length=10,
                                   description="what to be told about")
    source_minutes: int = Field(default=15, ge=0, le=WEEK, description="a source failing this long")
    review_minutes: int = Field(default=60, ge=0, le=WEEK, description="the oldest review waiting this long")
    rate_limit_minutes: int = Field(default=30, ge=0, le=WEEK, description="a rate limit lasting this long")
    enabled: bool = Field(default=True, description="false: nothing is evaluated or sent for it")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return checked_url(value)

    @field_validator("email_to")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return checked_email(value)

    @model_validator(mode="after")
    def _channel_fields(self) -> AlertSubscriptionCreate:
        if self.channel == AlertChannel.webhook and self.url is None:
            raise ValueError("a webhook needs a url")
        if self.channel == AlertChannel.email and self.email_to is None:
            raise ValueError("an email subscription needs email_to")
        return self


class AlertSubscriptionUpdate(Patch):
    """The fields to change; those left out keep their value (the account and channel stay)."""

    name: str | None = Field(default=None, min_length=1, max_length=100, description="a name for people")
    url: str | None = Field(default=None, max_length=2000, description="the webhook's http(s) URL")
    format: AlertFormat | None = Field(default=None, description="json | slack | discord | matrix")
    email_to: str | None = Field(default=None, max_length=320, description="the address emails go to")
    kinds: list[AlertKind] | None = Field(default=None, min_length=1, max_length=10,
                                         description="what to be told about")
    source_minutes: int | None = Field(default=None, ge=0, le=WEEK, description="a source failing this long")
    review_minutes: int | None = Field(default=None, ge=0, le=WEEK, description="the oldest review waiting this long")
    rate_limit_minutes: int | None = Field(default=None, ge=0, le=WEEK, description="a rate limit lasting this long")
    enabled: bool | None = Field(default=None, description="false: nothing is evaluated or sent for it")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return checked_url(value)

    @field_validator("email_to")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return checked_email(value)


class AlertSubscriptionRead(BaseModel):
    """A subscription as the API shows it: never its secret, its URL cut short."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="the subscription's id")
    account_id: int | None = Field(description="the account watched; null: every account")
    name: str = Field(description="a name for people")
    channel: str = Field(description="webhook or email")
    url: str | None = Field(description="cut after its first path segment; the full URL is never shown")
    format: str = Field(description="json | slack | discord | matrix")
    email_to: str | None = Field(description="the address emails go to")
    kinds: list[str] = Field(description="what it is told about")
    source_minutes: int = Field(description="a source failing this long raises source_failing")
    review_minutes: int = Field(description="the oldest review waiting this long raises review_waiting")
    rate_limit_minutes: int = Field(description="a rate limit lasting this long raises rate_limited")
    enabled: bool = Field(description="false: nothing is evaluated or sent for it")
    created_by: str = Field(description="who made it")
    created_at: datetime = Field(description="when")

    @field_validator("url", mode="before")
    @classmethod
    def _masked(cls, value: Any) -> Any:
        return masked(value)


class AlertSecret(BaseModel):
    """A new signing secret."""

    secret: str = Field(description="the HMAC-SHA256 key of X-Reposter-Signature; shown this once")


class AlertSubscriptionCreated(AlertSubscriptionRead):
    """The new subscription, with its secret (this once)."""

    secret: str = Field(description="the HMAC-SHA256 key of X-Reposter-Signature; shown this once")


class AlertDeliveryRead(BaseModel):
    """One message in the outbox and how its sending goes."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="the row's id")
    delivery_id: str = Field(description="the X-Reposter-Delivery header, the same on every retry")
    incident_id: int | None = Field(description="the incident it tells of (null: a test message)")
    event: str = Field(description="alert.opened | alert.resolved | alert.test")
    status: str = Field(description="pending | sending | delivered | failed | unknown (may have arrived; not re-sent)")
    attempts: int = Field(description="tries so far")
    next_attempt_at: datetime = Field(description="when it is (or was) due")
    last_error: str | None = Field(description="why the last try did not deliver it")
    created_at: datetime = Field(description="when it was written")
    delivered_at: datetime | None = Field(description="when the receiver took it")


class AlertIncidentRead(BaseModel):
    """One thing that went wrong, as one subscription was told of it."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="the incident's id")
    kind: str = Field(description="account_attention | source_failing | review_waiting | queue_age | rate_limited")
    subject: str = Field(description="what it is about, e.g. account:1:credentials")
    account_id: int | None = Field(description="the account")
    message: str = Field(description="what was wrong, when it opened")
    number: int = Field(description="how many times this has gone wrong")
    opened_at: datetime = Field(description="when it (last) opened")
    resolved_at: datetime | None = Field(description="when it ended; null: still open")
