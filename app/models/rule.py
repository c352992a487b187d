"""Rules: which posts an account reposts."""

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, JSONType, UTCDateTime, one_of, utcnow
from app.models.action import RuleAction


class Rule(Base):
    __tablename__ = "rules"
    __table_args__ = (CheckConstraint(one_of("action", RuleAction), name="action"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    query: Mapped[str] = mapped_column(Text, default="")
    normalized: Mapped[str] = mapped_column(Text, default="")
    # anyone | followers | following | list:<id> | users:a,b,c
    scope: Mapped[str] = mapped_column(Text, default="anyone")
    # The people the query (`from:`, `to:`, `@`) and a `users:` scope name: folded name ->
    # {"id": platform id or None while pending, "handle": for display}. Matched by id.
    authors: Mapped[dict] = mapped_column(JSONType, default=dict)
    # some name of `authors` is still pending (the identity job looks for these)
    authors_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    action: Mapped[str] = mapped_column(String(16), default="repost")
    quote_template: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    review: Mapped[bool] = mapped_column(Boolean, default=False)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    # When a match may go at the earliest (app/engine/timing.py; null: at once) and after how many
    # hours a sent one is undone again (a promotion window; null: never). 0013.
    timing: Mapped[dict | None] = mapped_column(JSONType)
    undo_after_hours: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ChangeMark(Base):
    """A counter the database itself moves on every write to a table (triggers, migration 0019):
    `rules`, and `accounts` (what the poll job reads of it). A worker compares it with what it saw
    last before reading the table (app/db/marks.py)."""

    __tablename__ = "change_marks"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
