"""Load what the engine decides on (AccountView, LimitSettings) from the database."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository as accounts_repo
from app.engine.limits import LimitSettings
from app.engine.view import AccountView, FilterSettings, MarkMode
from app.filters import repository as filters_repo
from app.models import Account, AccountFilters, ActionStatus
from app.moderation import repository as moderation_repo
from app.pipeline import repository
from app.platforms.registry import get_platform

# What counts as reposted for duplicate-text suppression: an undo in hand has not removed it yet.
ACTIVE = (ActionStatus.queued, ActionStatus.review, ActionStatus.sending, ActionStatus.done, ActionStatus.undoing)


def filter_settings(row: AccountFilters | None) -> FilterSettings:
    """The engine's view of a filters row (no row: no filters)."""
    if row is None:
        return FilterSettings()
    return FilterSettings(
        languages=tuple(lang.lower() for lang in row.languages or ()),
        exclude_replies=row.exclude_replies,
        exclude_reposts=row.exclude_reposts,
        exclude_quotes=row.exclude_quotes,
        min_followers=row.min_followers,
        min_account_age_days=row.min_account_age_days,
        max_hashtags=row.max_hashtags,
        max_mentions=row.max_mentions,
        max_links=row.max_links,
        banned_words=tuple(row.banned_words or ()),
        duplicate_window_minutes=row.duplicate_window_minutes,
        content_warnings=MarkMode(row.content_warnings or "allow"),
        sensitive=MarkMode(row.sensitive or "allow"),
        labels_skip=tuple(label.lower() for label in row.labels_skip or ()),
        labels_review=tuple(label.lower() for label in row.labels_review or ()),
    )


def entry_keys(author: str, pending: bool, domain: str | None) -> tuple[str, ...]:
    """What an entry matches of an author's keys (`author_keys`): the id once resolved; while
    pending, the name as typed, and on a server whose local handles may carry its domain, that form too."""
    if pending and domain and "@" not in author:
        return author, f"{author}@{domain}"
    return (author,)


async def account_view(session: AsyncSession, account: Account, now: datetime) -> AccountView:
    """Filters, blocks, opt-outs, consent, cached relations and recent texts of one account."""
    view = AccountView(account.id, account.handle, account.platform, account.platform_user_id)
    view.filters = filter_settings(await filters_repo.get(session, account.id))
    domain = get_platform(account.platform).home_domain(dict(account.config or {}))
    blocks = await moderation_repo.blocks_for(session, account_id=account.id, platform=account.platform)
    view.blocked = {key: b.reason for b in blocks for key in entry_keys(b.author, b.pending, domain)}
    for entry in await moderation_repo.entries_of(session, account.id):
        names = entry_keys(entry.author, entry.pending, domain)
        (view.optouts if entry.kind == "optout" else view.consent).update(names)
    for rel in await accounts_repo.relations(session, account.id):
        if rel.kind == "blocked_by":
            view.blockers = set(rel.members)
        elif rel.error is None or rel.members:
            view.relations[rel.kind] = set(rel.members)
    view.require_consent = bool(get_platform(account.platform).default_limits.get("require_consent")) and not (
        account.config or {}
    ).get("allow_without_consent", False)
    view.recent_texts = await recent_texts(session, account.id, view.filters.duplicate_window_minutes, now)
    return view


async def recent_texts(session: AsyncSession, account_id: int, minutes: int | None,
                       now: datetime) -> list[tuple[datetime, str]]:
    """(created_at, normalized text) of the account's live actions inside the duplicate window."""
    if not minutes:
        return []
    since = now - timedelta(minutes=minutes)
    rows = await repository.texts_since(session, account_id=account_id, since=since, statuses=ACTIVE)
    return [(at, text) for at, text in rows if text]


def platform_windows(account: Account, kind: str) -> tuple[tuple[int, int], ...]:
    """The platform's own (count, seconds) windows for a kind of action (`undo` included)."""
    return tuple(tuple(w) for w in get_platform(account.platform).default_limits.get("windows", {}).get(kind, ()))


def limit_settings(account: Account, kind: str) -> LimitSettings:
    """The account's limits plus the platform's own windows for this kind of action."""
    return LimitSettings(
        max_per_hour=account.max_per_hour,
        max_per_day=account.max_per_day,
        min_interval_seconds=account.min_interval_seconds or 0,
        quiet_hours_start=account.quiet_hours_start,
        quiet_hours_end=account.quiet_hours_end,
        timezone=account.timezone or "UTC",
        windows=platform_windows(account, kind),
    )


async def sent_times(session: AsyncSession, account_id: int, now: datetime, *, undo: bool = False) -> list[datetime]:
    """When the account acted (or undid) in the last day: what the limits count."""
    return await repository.acted_since(session, account_id=account_id, since=now - timedelta(days=1), undo=undo)
