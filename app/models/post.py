"""Posts the service has seen: the inbox the matcher reads, and what preview uses."""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, JSONType, UTCDateTime, utcnow


class SeenPost(Base):
    __tablename__ = "seen_posts"
    __table_args__ = (UniqueConstraint("platform", "post_id"),)

    # Increasing: the matcher's cursor is the last id it processed.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    post_id: Mapped[str] = mapped_column(String(255))
    author_id: Mapped[str] = mapped_column(String(255))
    author_handle: Mapped[str] = mapped_column(String(255), index=True)
    # Null: visible to every account of the platform; else only to the account whose feed had it.
    source_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
