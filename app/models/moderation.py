"""Blocks, opt-out and consent lists, and the cached follower/following sets scopes need."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, JSONType, UTCDateTime, one_of, utcnow


class ListKind(StrEnum):
    """An author list: `optout` (never repost them) or `consent` (repost them only: Bluesky opt-in)."""

    optout = "optout"
    consent = "consent"


class BlockKind(StrEnum):
    """What a block names: one `author` (their id), or every author of a `domain` and its subdomains
    (a Mastodon instance, `*@spam.example`; Bluesky handles, `*.spam.example`)."""

    author = "author"
    domain = "domain"


class Block(Base):
    """An author never reposted by one account, or by every account when account_id is null; or,
    of kind `domain`, every author whose instance or handle is in that domain."""

    __tablename__ = "blocks"
    __table_args__ = (
        UniqueConstraint("account_id", "author"),
        # NULLs are distinct in a unique constraint: a partial index keeps global blocks unique.
        Index("uq_blocks_global_author", "author", unique=True, postgresql_where=text("account_id IS NULL"),
              sqlite_where=text("account_id IS NULL")),
        CheckConstraint(one_of("kind", BlockKind), name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # who: the platform's stable id (lower-cased) once resolved; the cleaned name while pending;
    # for a domain block `*.<domain>` (a `*` no handle or id has, so the unique constraints hold)
    author: Mapped[str] = mapped_column(String(255))
    # the author's handle, for display only (refreshed; never matched once resolved)
    handle: Mapped[str] = mapped_column(String(255), default="")
    # True until the name has been resolved to an id through the platform
    pending: Mapped[bool] = mapped_column(Boolean, default=False)
    # whose id it is: the account's platform, or for a global block the platform it was resolved on
    platform: Mapped[str | None] = mapped_column(String(32))
    # when the platform was last asked who this is (resolving a pending name, or refreshing the handle)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")
    undo_existing: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # author | domain (0014); a domain block is never pending and never looked up
    kind: Mapped[str] = mapped_column(String(16), default=BlockKind.author, server_default=BlockKind.author.value)


class AuthorList(Base):
    """Per-account author lists: `optout` (never repost) and `consent` (Bluesky opt-in)."""

    __tablename__ = "author_lists"
    __table_args__ = (
        UniqueConstraint("account_id", "kind", "author"),
        CheckConstraint(one_of("kind", ListKind), name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    # as for Block: the stable id once resolved, the cleaned name while pending
    author: Mapped[str] = mapped_column(String(255))
    handle: Mapped[str] = mapped_column(String(255), default="")
    pending: Mapped[bool] = mapped_column(Boolean, default=False)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RelationCache(Base):
    """A cached set of people (followers, following, list members, blockers) of an account."""

    __tablename__ = "relation_cache"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    # followers | following | list:<id>
    kind: Mapped[str] = mapped_column(String(255), primary_key=True)
    members: Mapped[list[str]] = mapped_column(JSONType, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
