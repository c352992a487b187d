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
    (a Mastodon instance, `*@spam.example`; Bluesky handles, `*.spam.example`), or every Bluesky
    author whose repository is hosted on a `pds` (`pds:pds.spam.example`, its subdomains too)."""

    author = "author"
    domain = "domain"
    pds = "pds"


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
    # author | domain (0015) | pds (0018); a domain or PDS block is never pending and never looked up
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


class BlockListKind(StrEnum):
    """Where a shared block list's members come from."""

    bluesky_modlist = "bluesky_modlist"  # a Bluesky moderation list (app.bsky.graph.list, purpose modlist)
    reposter_account = "reposter_account"  # another account's own (manual) blocks


class BlockListSubscription(Base):
    """An account blocks everyone on a shared list while they are on it (refreshed on a schedule)."""

    __tablename__ = "block_list_subscriptions"
    __table_args__ = (
        UniqueConstraint("account_id", "source"),
        CheckConstraint(one_of("kind", BlockListKind), name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    # the list's at-uri (did authority), or `account:<id>` for another account's blocks
    source: Mapped[str] = mapped_column(String(600))
    # reposter_account: the account followed; null once it is deleted (the members stay, with an error)
    source_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    # the list's name as its platform gives it (or the source account's handle), for people
    name: Mapped[str] = mapped_column(String(255), default="")
    undo_existing: Mapped[bool] = mapped_column(Boolean, default=False)
    member_count: Mapped[int] = mapped_column(default=0)
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the last refresh that worked
    next_refresh_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # the last refresh's failure (None once one works again); the members stay as they were
    error: Mapped[str | None] = mapped_column(Text)
    error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def label(self) -> str:
        """How the list is named to people (and in skip reasons)."""
        if self.kind == BlockListKind.reposter_account:
            return f"the blocks of account {self.name or '?'} (#{self.source.removeprefix('account:')})"
        return f"block list \"{self.name}\" ({self.source})" if self.name else f"block list {self.source}"

    @property
    def block_reason(self) -> str:
        """What a member's skipped post says after `blocked: `."""
        return f"on {self.label}"


class BlockListMember(Base):
    """Someone on a subscribed list at its last refresh: blocked for the subscribing account."""

    __tablename__ = "block_list_members"

    subscription_id: Mapped[int] = mapped_column(ForeignKey("block_list_subscriptions.id", ondelete="CASCADE"),
                                                 primary_key=True)
    author: Mapped[str] = mapped_column(String(255), primary_key=True)  # the platform's stable id, lower-cased
    handle: Mapped[str] = mapped_column(String(255), default="")
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuthorHost(Base):
    """Where a Bluesky author's repository is hosted: the host of their DID document's `#atproto_pds`
    service, looked up (PLC directory or did:web) only while some PDS block exists, and refreshed
    after a day (app/moderation/author_hosts.py)."""

    __tablename__ = "author_hosts"

    did: Mapped[str] = mapped_column(String(255), primary_key=True)  # lower-cased, as actions.author_id is matched
    # the PDS's host name (lower-cased, IDNA); null while not known (never looked up, or the lookup failed)
    pds_host: Mapped[str | None] = mapped_column(String(255), index=True)
    resolved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # the last lookup, worked or not
    error: Mapped[str | None] = mapped_column(Text)  # the last lookup's failure; null once one works
