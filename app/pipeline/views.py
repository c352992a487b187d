"""Load what the engine decides on (AccountView, LimitSettings) from the database."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository as accounts_repo
from app.engine.limits import LimitSettings
from app.engine.view import AccountView, FilterSettings, MarkMode
from app.filters import repository as filters_repo
from app.models import Account, AccountFilters, ActionStatus, BlockKind
from app.moderation import author_hosts
from app.moderation import repository as moderation_repo
from app.moderation.domains import PDS_PREFIX
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
    return (await account_views(session, [account], now))[account.id]


async def account_views(session: AsyncSession, accounts: Sequence[Account], now: datetime) -> dict[int, AccountView]:
    """The views of these accounts, by id: one query per kind of thing for all of them (a batch of
    posts matched by a thousand accounts costs a handful of queries, not five per account)."""
    ids = [account.id for account in accounts]
    if not ids:
        return {}
    filters = await filters_repo.of_accounts(session, ids)
    views = {account.id: _view(account, filters.get(account.id)) for account in accounts}
    domains = {account.id: get_platform(account.platform).home_domain(dict(account.config or {}))
               for account in accounts}
    blocks = await moderation_repo.blocks_of_accounts(session, ids)
    for account in accounts:
        holds = [b for b in blocks if moderation_repo.block_holds(b, account_id=account.id, platform=account.platform)]
        views[account.id].blocked = {key: b.reason for b in holds if b.kind == BlockKind.author
                                     for key in entry_keys(b.author, b.pending, domains[account.id])}
        views[account.id].blocked_domains = {b.author.removeprefix("*."): b.reason for b in holds
                                             if b.kind == BlockKind.domain}
        views[account.id].blocked_pds = {b.author.removeprefix(PDS_PREFIX): b.reason for b in holds
                                         if b.kind == BlockKind.pds and account.platform == "bluesky"}
        views[account.id].home_domain = domains[account.id]
    # members of subscribed block lists (app/moderation/lists.py); a block of one's own gives the reason
    subscriptions, listed = await moderation_repo.listed_of_accounts(session, ids)
    by_id = {sub.id: (views[sub.account_id].blocked, sub.block_reason) for sub in subscriptions}
    for sub_id, author in listed:
        blocked, why = by_id[sub_id]
        blocked.setdefault(author, why)
    for entry in await moderation_repo.entries_of_accounts(session, ids):
        names = entry_keys(entry.author, entry.pending, domains[entry.account_id])
        view = views[entry.account_id]
        (view.optouts if entry.kind == "optout" else view.consent).update(names)
    for rel in await accounts_repo.relations_of_accounts(session, ids):
        view = views[rel.account_id]
        if rel.kind == "blocked_by":
            view.blockers = set(rel.members)
        elif rel.error is None or rel.members:
            view.relations[rel.kind] = set(rel.members)
    await _recent_texts(session, views, now)
    return views


async def fill_author_pds(session: AsyncSession, views: Iterable[AccountView], dids: Iterable[str],
                          now: datetime) -> set[str]:
    """Give the views that have PDS blocks the cached PDS hosts of these authors (`author_pds`);
    returns the DIDs to look up (never looked up, failed a while ago, or known for long). Nothing is
    read when no view has a PDS block."""
    wanting = [view for view in views if view.blocked_pds]
    if not wanting:
        return set()
    wanted = {did.lower() for did in dids if author_hosts.is_did(did.lower())}
    rows = await author_hosts.known(session, wanted)
    hosts = {did: row.pds_host for did, row in rows.items() if row.pds_host}
    for view in wanting:
        view.author_pds = hosts
    return {did for did in wanted if author_hosts.due(rows.get(did), now)}


def _view(account: Account, filters: AccountFilters | None) -> AccountView:
    view = AccountView(account.id, account.handle, account.platform, account.platform_user_id)
    view.filters = filter_settings(filters)
    view.require_consent = bool(get_platform(account.platform).default_limits.get("require_consent")) and not (
        account.config or {}
    ).get("allow_without_consent", False)
    return view


async def _recent_texts(session: AsyncSession, views: dict[int, AccountView], now: datetime) -> None:
    """(created_at, normalized text) of each account's live actions inside its duplicate window."""
    windows = {aid: now - timedelta(minutes=v.filters.duplicate_window_minutes)
               for aid, v in views.items() if v.filters.duplicate_window_minutes}
    if not windows:
        return
    rows = await repository.texts_of_accounts(session, account_ids=list(windows), since=min(windows.values()),
                                              statuses=ACTIVE)
    for account_id, at, text in rows:
        if text and at >= windows[account_id]:
            views[account_id].recent_texts.append((at, text))


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
