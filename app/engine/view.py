"""Plain values the engine decides on: an account's filters, blocks, scopes and recent reposts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from app.platforms.handles import handle_key


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
