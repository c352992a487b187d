"""Actions: one decision to act on one post for one account, and its whole life."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, JSONType, UTCDateTime, one_of, utcnow


class ActionStatus(StrEnum):
    """Where an action is in its life; the moves between them are in app/actions/states.py."""

    queued = "queued"
    review = "review"
    sending = "sending"
    done = "done"
    undoing = "undoing"
    failed = "failed"
    rejected = "rejected"
    undone = "undone"
    skipped = "skipped"


class ActionKind(StrEnum):
    """What an action does to the post on the platform. A rule does one of RuleAction; `reply` is
    the account's one answer to an author who said a stop word to it (app/moderation/stop.py)."""

    repost = "repost"
    quote = "quote"
    like = "like"
    reply = "reply"


class RuleAction(StrEnum):
    """What a rule makes its matches do: the kinds of action a rule may ask for."""

    repost = "repost"
    quote = "quote"
    like = "like"


class OriginalState(StrEnum):
    """What became of the original after the repost (None on the row: unchanged or unknown)."""

    deleted = "deleted"
    edited = "edited"


class Action(Base):
    __tablename__ = "actions"
    __table_args__ = (
        # The last line of defence: one action per (account, post, kind), whatever happens.
        UniqueConstraint("account_id", "post_id", "kind"),
        Index("ix_actions_due", "status", "next_attempt_at"),
        Index("ix_actions_account_status", "account_id", "status", "id"),
        Index("ix_actions_account_author", "account_id", "author_handle"),
        Index("ix_actions_undo_at", "undo_at"),
        Index("ix_actions_rule_spread", "rule_id", "spread_start"),
        # The closed sets, held by the database too (migrations 0005, 0008 and 0017 write the same conditions).
        CheckConstraint(one_of("status", ActionStatus), name="status"),
        CheckConstraint(one_of("kind", ActionKind), name="kind"),
        CheckConstraint(one_of("original_state", OriginalState, nullable=True), name="original_state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("rules.id", ondelete="SET NULL"))
    seen_post_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("seen_posts.id", ondelete="CASCADE")
    )
    post_id: Mapped[str] = mapped_column(String(255))
    post_url: Mapped[str | None] = mapped_column(Text)
    author_id: Mapped[str] = mapped_column(String(255))
    author_handle: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    platform_action_id: Mapped[str | None] = mapped_column(String(512))
    undo_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undo_attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Who asked for the undo in hand (or done); decided_by keeps who approved or rejected it (0008).
    undo_requested_by: Mapped[str | None] = mapped_column(String(255))
    decided_by: Mapped[str | None] = mapped_column(String(255))
    lease_owner: Mapped[str | None] = mapped_column(String(255))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The original after the repost: when it was last looked at, and `deleted` / `edited` once seen so.
    original_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    original_state: Mapped[str | None] = mapped_column(String(16))
    # The rule's timing (0013): the earliest send it set (null: at once), the spread window the action
    # is in (its start), and when its promotion window ends (set when sent; cleared once the undo is asked).
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    spread_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undo_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What was decided on, written once by the matcher (app/actions/snapshot.py); null on rows older than 0007.
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
