"""Blocks and author lists on the API."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator

from app.inputs import Id
from app.moderation.domains import (
    block_key,
    domain_of_key,
    domain_of_pattern,
    is_pattern,
    is_pds,
    pds_key,
    pds_of_key,
    pds_of_typed,
)
from app.moderation.identity import clean_name


def clean_author(value: str) -> str:
    """The name cleaned (`@Alice ` -> `alice`); the service resolves it to the author's id."""
    return clean_name(value)


def clean_blocked(value: str) -> str:
    """An author's name cleaned, a domain block (`*@spam.example`, `*.spam.example`) as its key
    `*.spam.example`, or a PDS block (`pds:pds.spam.example`) as `pds:pds.spam.example`."""
    if is_pds(value):
        return pds_key(pds_of_typed(value))
    return block_key(domain_of_pattern(value)) if is_pattern(value) else clean_name(value)


class AuthorRead(BaseModel):
    """Who an entry names: the platform id (None while pending) and the handle shown for it."""

    model_config = ConfigDict(from_attributes=True)

    author: str = Field(description="the author's platform id once resolved; the name as typed while pending")
    handle: str = Field(description="the author's current handle, for display (refreshed by the identity job)")
    pending: bool = Field(description="true while the platform could not be asked who this is; "
                                      "until then the entry matches by the name as typed")

    # mypy refuses a decorator over @property (python/mypy#1362); pydantic documents this very
    # ignore for computed_field, which must wrap the property to put it in the JSON.
    @computed_field  # type: ignore[prop-decorator]
    @property
    def author_id(self) -> str | None:
        """The stable id matched (Bluesky DID, Mastodon account id, X user id); None while pending."""
        return None if self.pending else self.author


class BlockCreate(BaseModel):
    """An author never to repost."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"author": "@spammer@mastodon.social", "reason": "repeated spam", "undo_existing": True},
        {"author": "*@spam.example", "reason": "spam instance", "undo_existing": True},
        {"author": "pds:pds.spam.example", "reason": "spam PDS"}]})

    author: str = Field(description="handle (alice, @alice, alice@domain on Mastodon) or platform id, resolved "
                                    "to the author's id through the platform; or a domain block: `*@spam.example` "
                                    "(every author of that Mastodon instance) or `*.spam.example` (every Bluesky "
                                    "handle under that domain), subdomains included; or a PDS block: "
                                    "`pds:pds.spam.example` (every Bluesky author whose repository that PDS, "
                                    "or one under it, hosts)")
    platform: str | None = Field(default=None, max_length=32,
                                 description="global blocks: the platform whose author this is (default: the one "
                                             "platform accounts use); ignored for an account's block")
    reason: str = Field(default="", max_length=1000, examples=["repeated spam"],
                        description="why, for the other moderators and the audit log")
    undo_existing: bool = Field(default=False, description="also undo this author's earlier reposts")

    _author = field_validator("author")(classmethod(lambda cls, v: clean_blocked(v)))

    @property
    def domain(self) -> str | None:
        """The domain a domain block names; None for an author."""
        return domain_of_key(self.author)

    @property
    def pds(self) -> str | None:
        """The host a PDS block names; None otherwise."""
        return pds_of_key(self.author)


class BlockRead(AuthorRead):
    """A block: the author is never reposted by its account (or, global, by any account on its platform);
    of kind `domain`, no author in that domain or under it is."""

    id: int = Field(description="the block's id")
    kind: Literal["author", "domain", "pds"] = Field(
        description="author: one person, by id; domain: every author of an instance or handle domain, "
                    "subdomains included; pds: every Bluesky author hosted on that PDS (or one under its host)")
    account_id: int | None = Field(description="the account it holds for; null: a global block")
    platform: str | None = Field(description="a global block's platform")
    reason: str = Field(description="why, as given")
    undo_existing: bool = Field(description="whether earlier reposts of the author were undone with it")
    created_by: str = Field(description="who blocked (a token's name)")
    created_at: datetime = Field(description="when (UTC)")


    # as in AuthorRead: pydantic documents this ignore for computed_field over a property
    @computed_field  # type: ignore[prop-decorator]
    @property
    def author_id(self) -> str | None:
        """The stable id matched; None while pending, and for a domain block (a place, not a person)."""
        return None if self.pending or self.kind != "author" else self.author

    @computed_field  # type: ignore[prop-decorator]
    @property
    def domain(self) -> str | None:
        """The domain a domain block names (`spam.example`); None for an author block."""
        return domain_of_key(self.author) if self.kind == "domain" else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def pds(self) -> str | None:
        """The PDS host a PDS block names (`pds.spam.example`); None for other blocks."""
        return pds_of_key(self.author) if self.kind == "pds" else None


class BlockCreated(BlockRead):
    undo_queued: int = Field(description="earlier reposts queued for undo")
    unqueued: int = Field(description="waiting posts of this author that will not be sent")


ListKind = Literal["optout", "consent"]  # the values of app.models.ListKind (a test holds them equal)


class AuthorEntry(BaseModel):
    """An author for the opt-out or the consent list."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"author": "alice.bsky.social"}]})

    author: str = Field(examples=["alice.bsky.social"], description="handle (alice, @alice, alice@domain on "
                                                                    "Mastodon) or platform id, resolved to the id")
    undo_existing: bool = Field(default=False, description="opt-out only: undo earlier reposts of this author")

    _author = field_validator("author")(classmethod(lambda cls, v: clean_author(v)))


class AuthorEntryRead(AuthorRead):
    """An author on an account's opt-out or consent list."""

    id: int = Field(description="the entry's id")
    account_id: int = Field(description="the account whose list it is on")
    kind: str = Field(description="optout (never reposted) or consent (may be reposted where opt-in is needed)")
    created_at: datetime = Field(description="when it was added (UTC)")


class BlockListCreate(BaseModel):
    """A shared block list to follow: a Bluesky moderation list, or another account's blocks."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"list": "https://bsky.app/profile/mods.example.com/lists/3kabc2def", "undo_existing": True},
        {"source_account_id": 2}]})

    list: str | None = Field(default=None, max_length=600,
                             description="a Bluesky moderation list: its at-uri (at://<did>/app.bsky.graph.list/"
                                         "<rkey>) or its bsky.app address; the owner's handle is resolved to a DID")
    source_account_id: Id | None = Field(default=None, description="another account (same platform, one the caller "
                                                                    "may read) whose own blocks to follow")
    undo_existing: bool = Field(default=False, description="also undo earlier reposts of each member as they join")


class BlockListRead(BaseModel):
    """A subscription: everyone on the list is blocked for the account while they are on it."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="the subscription's id")
    account_id: int = Field(description="the account whose blocks it adds to")
    kind: str = Field(description="bluesky_modlist or reposter_account")
    source: str = Field(description="the list's at-uri (owner as a DID), or account:<id>")
    source_account_id: int | None = Field(description="reposter_account: the account whose blocks are followed")
    name: str = Field(description="the list's name on Bluesky, or the source account's handle")
    undo_existing: bool = Field(description="whether members' earlier reposts are undone as they join")
    member_count: int = Field(description="people on the list at its last refresh that worked")
    refreshed_at: datetime | None = Field(description="the last refresh that worked (UTC)")
    next_refresh_at: datetime | None = Field(description="when it is read again (UTC)")
    error: str | None = Field(description="why the last refresh failed (members are kept as they were); "
                                          "null once one works")
    error_at: datetime | None = Field(description="when that refresh failed (UTC)")
    created_by: str = Field(description="who subscribed")
    created_at: datetime = Field(description="when (UTC)")


class BlockListRefreshed(BlockListRead):
    added: int = Field(description="people who joined the list (now blocked)")
    removed: int = Field(description="people who left it (no longer blocked by it)")
    unqueued: int = Field(description="waiting posts of those who joined that will not be sent")
    undo_queued: int = Field(description="earlier reposts of those who joined queued for undo")


class BlockListMemberRead(BaseModel):
    """Someone on a subscribed list: blocked for the account while they are on it."""

    model_config = ConfigDict(from_attributes=True)

    author: str = Field(description="the person's platform id")
    handle: str = Field(description="their handle when the list was read, for display")
    added_at: datetime = Field(description="when the account's copy of the list gained them (UTC)")
class ImportLine(BaseModel):
    """What an import did with one line of the file."""

    line: int = Field(description="the line's number in the file (1 is the first, the header if any)")
    block: str = Field(description="the author or domain as the line wrote it")
    outcome: Literal["added", "skipped", "left out"] = Field(
        description="added; skipped (blocked already, or repeated in the file); left out (a Mastodon `noop` line)")
    detail: str = Field(description="what was blocked (its handle or `*@domain`), or why the line was skipped")


class BlockImport(BaseModel):
    """An import's report: every line of the file that blocks something, with what became of it."""

    added: int = Field(description="blocks added")
    skipped: int = Field(description="lines blocked already, or repeated in the file")
    left_out: int = Field(description="lines that block nothing (Mastodon's `noop` severity)")
    lines: list[ImportLine] = Field(description="each line, in file order")
