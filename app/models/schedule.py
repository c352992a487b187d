"""Cursors: per account and source, where the last poll ended, and when the next is due."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UTCDateTime, utcnow


class Cursor(Base):
    __tablename__ = "cursors"
    __table_args__ = (
        UniqueConstraint("account_id", "source"),
        Index("uq_cursors_global_source", "source", unique=True, postgresql_where=text("account_id IS NULL"),
              sqlite_where=text("account_id IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Null for the service's own cursors (the matcher's position in seen_posts).
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(512))
    position: Mapped[str | None] = mapped_column(Text)
    next_poll_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    # lifetime counters, for /metrics (every worker's polls land here, so they are counted once)
    poll_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    lease_owner: Mapped[str | None] = mapped_column(String(255))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
