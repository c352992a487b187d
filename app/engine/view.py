"""Plain values the engine decides on: an account's filters, blocks, scopes and recent reposts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from app.platforms.handles import handle_key


class MarkMode(StrEnum):
    """What the filters do with a post marked by a content warning, as sensitive, or by a label.

    The engine is pure, so it spells the values itself; app/models/account.py MarkMode (the
    column's CHECK) holds the same ones (tests/engine/test_marks.py checks it)."""

    allow = "allow"
    skip = "skip"
    review = "review"


@dataclass(frozen=True)
class FilterSettings:
    languages: tuple[str, ...] = ()
    exclude_replies: bool = False
    exclude_reposts: bool = False
    exclude_quotes: bool = False
    min_followers: int | None = None
    min_account_age_days: int | None = None
    max_hashtags: int | None = None
    max_mentions: int | None = None
    max_links: int | None = None
    banned_words: tuple[str, ...] = ()
    duplicate_window_minutes: int | None = None
    # What to do with a post that carries a content warning, is marked sensitive, or has one of
    # these labels (on it or its author): MarkMode values, "allow" leaves it to the rules.
    content_warnings: MarkMode = MarkMode.allow
    sensitive: MarkMode = MarkMode.allow
    labels_skip: tuple[str, ...] = ()
    labels_review: tuple[str, ...] = ()


@dataclass
class AccountView:
    """Everything `decide` needs to know about one account, loaded once per batch."""

    account_id: int
    handle: str
    platform: str
    platform_user_id: str | None = None
    filters: FilterSettings = field(default_factory=FilterSettings)
    # lower-cased handles and ids -> reason
    blocked: dict[str, str] = field(default_factory=dict)
    # blocked domains (lower-cased, IDNA) -> reason: every author in the domain or under it
    blocked_domains: dict[str, str] = field(default_factory=dict)
    # blocked PDS hosts (lower-cased, IDNA) -> reason: every Bluesky author hosted there or under it
    blocked_pds: dict[str, str] = field(default_factory=dict)
    # Bluesky authors' PDS hosts (lower-cased DID -> host) as far as known, for `blocked_pds`: filled
    # per batch only when the account has PDS blocks; an author missing here is not treated as blocked
    author_pds: dict[str, str] = field(default_factory=dict)
    # the domain local handles are in (Mastodon: the instance's host), for domain blocks
    home_domain: str | None = None
    optouts: set[str] = field(default_factory=set)
    # authors who block the account on the platform: they opted out of it
    blockers: set[str] = field(default_factory=set)
    consent: set[str] = field(default_factory=set)
    require_consent: bool = False
    # scope kind (followers, following, list:<id>) -> members; absent: not known
    relations: dict[str, set[str]] = field(default_factory=dict)
    # (when, normalized text) of posts reposted or queued recently, for duplicate suppression
    recent_texts: list[tuple[datetime, str]] = field(default_factory=list)

    def own_names(self) -> set[str]:
        """The account's own handle and id, lower-cased (to see that an author tagged it)."""
        names = {handle_key(self.handle)}
        if self.platform_user_id:
            names.add(self.platform_user_id.lower())
        return names
