"""Accounts (the identities that repost) and their filters."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, JSONType, UTCDateTime, one_of, utcnow

# The words an author may mention the account with to opt out of it, until its owner sets others.
DEFAULT_STOP_WORDS = ("stop", "#nobot", "unsubscribe")
DEFAULT_STOP_WORDS_JSON = '["stop", "#nobot", "unsubscribe"]'
# What the account answers an author it has just opted out by mention, where its owner allows a reply.
DEFAULT_STOP_REPLY = "OK, I won't repost your posts any more."


class AccountStatus(StrEnum):
    """The account's status as last derived from its conditions (app/accounts/conditions.py)."""

    active = "active"
    needs_attention = "needs_attention"
    rate_limited = "rate_limited"


class MarkMode(StrEnum):
    """What an account's filters do with a post that has a content warning, is marked sensitive,
    or carries a label: leave it to the rules, skip it, or hold it for review."""

    allow = "allow"
    skip = "skip"
    review = "review"


class Account(Base):
    __tablename__ = "accounts"
    # Tokens list account ids (JSON); on SQLite AUTOINCREMENT keeps a deleted account's id from
    # being given to the next account (PostgreSQL's identity never reuses one).
    __table_args__ = (
        UniqueConstraint("platform", "handle"),
        CheckConstraint(one_of("status", AccountStatus), name="status"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    handle: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(255))
    platform_user_id: Mapped[str | None] = mapped_column(String(255))
    credentials_encrypted: Mapped[str] = mapped_column(Text, default="")
    config: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    sources: Mapped[list[str]] = mapped_column(JSONType, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(32), default="active")
    status_detail: Mapped[str | None] = mapped_column(Text)
    rate_limited_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What is wrong right now, by code (app/accounts/conditions.py); status is derived from it.
    conditions: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, server_default="{}")
    max_per_hour: Mapped[int | None] = mapped_column(Integer)
    max_per_day: Mapped[int | None] = mapped_column(Integer)
    min_interval_seconds: Mapped[int] = mapped_column(Integer, default=0)
    quiet_hours_start: Mapped[str | None] = mapped_column(String(5))
    quiet_hours_end: Mapped[str | None] = mapped_column(String(5))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    max_queue_age_seconds: Mapped[int | None] = mapped_column(Integer)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "Stop" by mention (app/moderation/stop.py): an author who mentions the account with one of
    # these words is put on its opt-out list; with stop_undo_existing their reposts are undone too.
    stop_words_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    stop_words: Mapped[list[str]] = mapped_column(JSONType, default=lambda: list(DEFAULT_STOP_WORDS),
                                                  server_default=DEFAULT_STOP_WORDS_JSON)
    stop_undo_existing: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Whether the account tells such an author so, in one reply to their mention, and in which words (0017).
    stop_reply: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    stop_reply_text: Mapped[str] = mapped_column(Text, default=DEFAULT_STOP_REPLY, server_default=DEFAULT_STOP_REPLY)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AccountFilters(Base):
    """Checks applied after a rule matched; one row per account (absent means no filters)."""

    __tablename__ = "account_filters"
    __table_args__ = (
        CheckConstraint(one_of("content_warnings", MarkMode), name="content_warnings"),
        CheckConstraint(one_of("sensitive", MarkMode), name="sensitive"),
    )

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    languages: Mapped[list[str]] = mapped_column(JSONType, default=list)
    exclude_replies: Mapped[bool] = mapped_column(Boolean, default=False)
    exclude_reposts: Mapped[bool] = mapped_column(Boolean, default=False)
    exclude_quotes: Mapped[bool] = mapped_column(Boolean, default=False)
    min_followers: Mapped[int | None] = mapped_column(Integer)
    min_account_age_days: Mapped[int | None] = mapped_column(Integer)
    max_hashtags: Mapped[int | None] = mapped_column(Integer)
    max_mentions: Mapped[int | None] = mapped_column(Integer)
    max_links: Mapped[int | None] = mapped_column(Integer)
    banned_words: Mapped[list[str]] = mapped_column(JSONType, default=list)
    duplicate_window_minutes: Mapped[int | None] = mapped_column(Integer)
    # Posts with a content warning, marked sensitive, or with these labels: allow, skip or review.
    content_warnings: Mapped[str] = mapped_column(String(8), default="allow", server_default="allow")
    sensitive: Mapped[str] = mapped_column(String(8), default="allow", server_default="allow")
    labels_skip: Mapped[list[str]] = mapped_column(JSONType, default=list, server_default="[]")
    labels_review: Mapped[list[str]] = mapped_column(JSONType, default=list, server_default="[]")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
