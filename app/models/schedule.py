"""Cursors: per account and source, where the last poll ended, when the next is due, and how polls
have gone; stream states: per account, how its push feed is doing."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UTCDateTime, one_of, utcnow


class StreamPhase(StrEnum):
    """Where an account's push feed is (app/pipeline/stream_state.py writes it)."""

    connecting = "connecting"  # the streamer is opening it
    connected = "connected"
    reconnecting = "reconnecting"  # it dropped; retrying with backoff (see the error)
    unavailable = "unavailable"  # the platform or server offers no stream; polling carries the feed
    stopped = "stopped"  # given up until a person acts (refused credentials)


class Cursor(Base):
    __tablename__ = "cursors"
    __table_args__ = (
        UniqueConstraint("account_id", "source"),
        Index("uq_cursors_global_source", "source", unique=True, postgresql_where=text("account_id IS NULL"),
              sqlite_where=text("account_id IS NULL")),
        # the poll job's claim: the sources due, the most overdue first (app/pipeline/poller.py)
        Index("ix_cursors_next_poll_at", "next_poll_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Null for the service's own cursors (the matcher's position in seen_posts).
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(512))
    position: Mapped[str | None] = mapped_column(Text)
    next_poll_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # the source's own interval, fitted to how busy it is (app/pipeline/poll_schedule.py); null: base
    poll_interval_seconds: Mapped[float | None] = mapped_column(Float)
    # when a poll last ended, whatever its outcome, and when one last succeeded
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the last failure (kept after a success, so a flapping source can be read back): its message,
    # kind (timeout, transport, http, rate_limited, credentials, ...), HTTP status and time
    error: Mapped[str | None] = mapped_column(Text)
    error_kind: Mapped[str | None] = mapped_column(String(32))
    error_status: Mapped[int | None] = mapped_column(Integer)
    error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # failures since the last success; N of them raise the account condition `source:<source>`
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # lifetime counters, for /metrics (every worker's polls land here, so they are counted once)
    poll_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    lease_owner: Mapped[str | None] = mapped_column(String(255))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StreamState(Base):
    """One account's push feed as the streamer last saw it (absent: no stream was ever started)."""

    __tablename__ = "stream_states"
    __table_args__ = (CheckConstraint(one_of("state", StreamPhase), name="state"),)

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # in this state since
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    connected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # last time a stream opened
    last_post_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    error_kind: Mapped[str | None] = mapped_column(String(32))
    error_status: Mapped[int | None] = mapped_column(Integer)
    error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # since it last opened
    worker_id: Mapped[str | None] = mapped_column(String(255))
