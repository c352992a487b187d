"""Alerts: who is told (subscriptions), what they were told about (incidents), and the outbox of
messages on their way (deliveries)."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, JSONType, UTCDateTime, one_of, utcnow


class AlertKind(StrEnum):
    """What an alert is about (app/alerts/findings.py says when each holds)."""

    account_attention = "account_attention"  # a person must act before the account sends again
    source_failing = "source_failing"  # a source has failed for `source_minutes`
    review_waiting = "review_waiting"  # the oldest review action has waited `review_minutes`
    queue_age = "queue_age"  # a queued action has waited beyond the account's max_queue_age
    rate_limited = "rate_limited"  # a rate limit has lasted `rate_limit_minutes`


class AlertChannel(StrEnum):
    webhook = "webhook"
    email = "email"


class AlertFormat(StrEnum):
    """The body a webhook receives: our JSON, or the message shape of a chat's incoming webhook."""

    json = "json"
    slack = "slack"
    discord = "discord"
    matrix = "matrix"


class DeliveryStatus(StrEnum):
    """pending (due at next_attempt_at) -> sending -> delivered | pending (retry) | failed | unknown."""

    pending = "pending"
    sending = "sending"
    delivered = "delivered"
    failed = "failed"  # refused for good, or out of attempts
    unknown = "unknown"  # may have reached a receiver that cannot de-duplicate: not sent again


class AlertSubscription(Base):
    __tablename__ = "alert_subscriptions"
    __table_args__ = (
        CheckConstraint(one_of("channel", AlertChannel), name="channel"),
        CheckConstraint(one_of("format", AlertFormat), name="format"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # None: every account (admins only)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(16))
    format: Mapped[str] = mapped_column(String(16), default=AlertFormat.json.value)
    url: Mapped[str | None] = mapped_column(Text)
    email_to: Mapped[str | None] = mapped_column(String(320))
    # Fernet, like credentials: the HMAC key of the signature header, shown once
    secret_encrypted: Mapped[str] = mapped_column(Text, default="")
    kinds: Mapped[list[str]] = mapped_column(JSONType, default=list)
    source_minutes: Mapped[int] = mapped_column(Integer, default=15)
    review_minutes: Mapped[int] = mapped_column(Integer, default=60)
    rate_limit_minutes: Mapped[int] = mapped_column(Integer, default=30)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlertIncident(Base):
    """One thing wrong, for one subscription: opened once, resolved once; the row is reopened
    (`number` + 1) when the same thing goes wrong again."""

    __tablename__ = "alert_incidents"
    __table_args__ = (
        UniqueConstraint("subscription_id", "kind", "subject"),
        CheckConstraint(one_of("kind", AlertKind), name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("alert_subscriptions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(300))
    account_id: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text, default="")
    number: Mapped[int] = mapped_column(Integer, default=1)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AlertDelivery(Base):
    """The outbox: one message to one subscription, its body fixed when it was written (a retry
    sends the same bytes under the same delivery id)."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        Index("ix_alert_deliveries_due", "status", "next_attempt_at"),
        CheckConstraint(one_of("status", DeliveryStatus), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("alert_subscriptions.id", ondelete="CASCADE"),
                                                 index=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("alert_incidents.id", ondelete="SET NULL"))
    delivery_id: Mapped[str] = mapped_column(String(36), unique=True)
    event: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.pending.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(255))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
