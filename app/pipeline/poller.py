"""The poller: for each account, each due source is fetched through its FeedSource into the inbox."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.conditions import Severity, clear_condition, expire, needs_attention, set_condition
from app.accounts.context import context_for
from app.db.base import utcnow
from app.db.dialect import insert_ignore
from app.db.session import transaction
from app.models import Account, Cursor, RelationCache
from app.pipeline import inbox
from app.pipeline.leases import Heartbeat, LeaseLost, claim, hold, release
from app.pipeline.relations import refresh
from app.pipeline.source_health import describe, record_failure, record_success
from app.platforms.base import CredentialsInvalid, PlatformError, RateLimited
from app.platforms.registry import get_platform
from app.query import parse, positive_hashtags
from app.rules import repository as rules_repo

log = logging.getLogger("reposter.poller")


async def desired_sources(session: AsyncSession, account: Account, runtime) -> list[str]:
    """The account's own sources, or the platform's choice from its rules' hashtags."""
    if account.sources:
        return list(dict.fromkeys(account.sources))
    tags: list[str] = []
    for rule in await rules_repo.for_account(session, account.id):
        try:
            tags += positive_hashtags(parse(rule.query, scoped=rule.scope != "anyone"))
        except ValueError:
            continue
    ctx = context_for(account, runtime.fernet)
    return get_platform(account.platform).default_sources(ctx, sorted(set(tags)))


async def _ensure_cursors(session: AsyncSession, account: Account, sources: list[str], now) -> None:
    for source in sources:
        await session.execute(insert_ignore(session, Cursor, conflict=["account_id", "source"]).values(
            account_id=account.id, source=source, next_poll_at=now))


async def _wanted_sources(session: AsyncSession, runtime, now, cache: dict) -> dict[int, list[str]]:
    """Each active account's sources; derived ones are worked out again only when its rules or
    settings changed (parsing every rule on every tick would not scale to 100,000 rules)."""
    accounts = (await session.scalars(select(Account).where(Account.enabled.is_(True)))).all()
    rule_signatures = await rules_repo.signatures_by_account(session)
    wanted: dict[int, list[str]] = {}
    for account in accounts:
        if needs_attention(account):
            continue
        signature = (tuple(account.sources or ()), account.updated_at, rule_signatures.get(account.id))
        known = cache.get(account.id)
        if known is None or known[0] != signature:
            known = cache[account.id] = (signature, await desired_sources(session, account, runtime))
            await _ensure_cursors(session, account, known[1], now)
        wanted[account.id] = known[1]
    return wanted


async def poll_due(runtime, cache: dict | None = None) -> int:
    """Poll every due source of every enabled account; returns how many posts were new.
    `cache` (kept by the caller across ticks) remembers each account's derived sources."""
    now = utcnow()
    async with transaction(runtime.sessions) as session:
        wanted = await _wanted_sources(session, runtime, now, {} if cache is None else cache)
        # Only sources still wanted are claimed; one no longer wanted keeps its cursor for later.
        wanted_now = or_(*(and_(Cursor.account_id == aid, Cursor.source.in_(sources))
                           for aid, sources in wanted.items() if sources))
        ids = await claim(session, Cursor, wanted_now, Cursor.next_poll_at <= now, order=[Cursor.next_poll_at],
                          limit=200, owner=runtime.worker_id, now=now,
                          seconds=runtime.settings.lease_seconds) if wanted else []
    new = 0
    for cursor_id in ids:
        new += await _poll_one(runtime, cursor_id)
    return new


async def _poll_one(runtime, cursor_id: int) -> int:
    """Fetch one source; the posts and the new cursor position commit together. Never raises."""
    try:
        async with Heartbeat(runtime, Cursor, [cursor_id]), transaction(runtime.sessions) as session:
            cursor = await session.get(Cursor, cursor_id)
            account = await session.get(Account, cursor.account_id)
            new = await _fetch_into_inbox(session, runtime, account, cursor)
            await _ensure_blocked_by(session, runtime, account)
            if not await hold(session, Cursor, cursor_id, runtime.worker_id):
                raise LeaseLost(f"cursor {cursor_id}")  # another worker polls it now: keep nothing
            await release(session, Cursor, [cursor_id], runtime.worker_id)
            return new
    except LeaseLost:
        log.warning("lease lost: poll not recorded", extra={"cursor_id": cursor_id, "worker": runtime.worker_id})
        return 0
    except Exception as exc:  # noqa: BLE001 - an adapter bug on one source must not stop the others
        log.exception("poll crashed", extra={"cursor_id": cursor_id, "error_kind": describe(exc)[0]})
        async with transaction(runtime.sessions) as session:
            if not await hold(session, Cursor, cursor_id, runtime.worker_id):
                return 0
            cursor = await session.get(Cursor, cursor_id)
            account = await session.get(Account, cursor.account_id) if cursor.account_id else None
            now = utcnow()
            cursor.poll_count += 1
            record_failure(cursor, account, exc, now=now, threshold=runtime.settings.source_failure_threshold)
            cursor.next_poll_at = now + timedelta(seconds=runtime.settings.poll_interval_seconds)
            await release(session, Cursor, [cursor_id], runtime.worker_id)
        return 0


async def _fetch_into_inbox(session: AsyncSession, runtime, account: Account, cursor: Cursor) -> int:
    now = utcnow()
    feed = get_platform(account.platform).feed_source(context_for(account, runtime.fernet), runtime.http)
    interval = timedelta(seconds=runtime.settings.poll_interval_seconds)
    cursor.poll_count += 1
    try:
        posts, position = await feed.fetch(cursor.source, cursor.position)
    except PlatformError as exc:
        _poll_failed(runtime, account, cursor, exc, now)
        return 0
    # Posts are shared by every account of the platform: a post two accounts' feeds both carry is one
    # post, matched once against all rules (non-public posts cannot be reposted on any platform anyway).
    if cursor.position is None:  # a new source: its history is not news; only the last hour's posts are
        since = now - timedelta(seconds=runtime.settings.first_poll_max_age_seconds)
        posts = [p for p in posts if p.created_at is None or p.created_at >= since]
    new = await inbox.store(session, posts)
    cursor.position, cursor.next_poll_at = position, now + interval
    record_success(cursor, account, now)
    clear_condition(account, f"rate_limited:poll:{cursor.source}", now=now)
    expire(account, now)
    log.info("polled", extra={"account_id": account.id, "source": cursor.source, "posts": len(posts), "new": new})
    return new


def _poll_failed(runtime, account: Account, cursor: Cursor, exc: PlatformError, now) -> None:
    """Record the failure on the source (kind, status, message, time, count) and on the account."""
    record_failure(cursor, account, exc, now=now, threshold=runtime.settings.source_failure_threshold)
    cursor.next_poll_at = now + timedelta(seconds=runtime.settings.poll_interval_seconds)
    if isinstance(exc, RateLimited):
        cursor.next_poll_at = exc.retry_at
        # A poll's limit is the poll bucket's own: it never holds the account's sends.
        set_condition(account, f"rate_limited:poll:{cursor.source}", severity=Severity.limit, http_status=429,
                      message=f"polling {cursor.source} rate limited until {exc.retry_at.isoformat()}",
                      until=exc.retry_at, source=cursor.source)
    elif isinstance(exc, CredentialsInvalid):
        set_condition(account, "credentials", severity=Severity.attention, message=str(exc), http_status=exc.status)
    log.warning("poll failed", extra={"account_id": account.id, "source": cursor.source, "error_kind": exc.kind,
                                      "http_status": exc.status, "error": str(exc),
                                      "consecutive_failures": cursor.consecutive_failures})


async def _ensure_blocked_by(session: AsyncSession, runtime, account: Account) -> None:
    """Authors who block the account have opted out: fetch that set once; refresh keeps it fresh."""
    if await session.get(RelationCache, (account.id, "blocked_by")) is None:
        await refresh(session, runtime, account, "blocked_by")
