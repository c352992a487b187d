"""The poller: for each account, each due source is fetched through its FeedSource into the inbox."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository as accounts_repo
from app.accounts.conditions import (
    clear_rate_limits,
    credentials_refused,
    expire,
    needs_attention,
    polls_blocked_until,
    record_rate_limit,
)
from app.accounts.context import context_for
from app.db.base import utcnow
from app.db.dialect import among
from app.db.marks import change_mark
from app.db.session import transaction
from app.inputs import storable_text
from app.models import Account, Cursor
from app.moderation import stop
from app.pipeline import inbox, repository
from app.pipeline.fanout import Fanout, host_of, one_by_one, within
from app.pipeline.leases import Heartbeat, LeaseLost, claim, hold, release
from app.pipeline.poll_schedule import Bounds, backoff, bounds, due_after, fitted, never_slowed
from app.pipeline.source_health import describe, record_failure, record_success
from app.platforms.base import MENTIONS, CredentialsInvalid, PlatformError, Post, RateLimited
from app.platforms.registry import get_platform
from app.query import parse, positive_hashtags
from app.rules import repository as rules_repo
from app.runtime import Runtime

log = logging.getLogger("reposter.poller")

# What a poll fetches: the new posts and the cursor to pass next time (FeedSource.fetch).
Fetched = tuple[list[Post], str | None]
# What an account's derived sources depend on: its own sources, its settings, its rules, "stop" by mention.
SourcesKey = tuple[tuple[str, ...], datetime, tuple[int, datetime | None] | None, bool]


@dataclass
class SourceCache:
    """What the poll job keeps across ticks: each account's derived sources with what they were
    derived from; and, while the accounts' and the rules' change marks (app/db/marks.py) stay where
    they were, every enabled account's sources and the accounts with conditions (asked again each
    tick: a rate limit ends with time), so that a tick reads two rows, not 10,000 accounts."""

    derived: dict[int, tuple[SourcesKey, list[str]]] = field(default_factory=dict)
    marks: tuple[int, int] | None = None  # (accounts, rules) when `wanted` was read
    wanted: dict[int, list[str]] = field(default_factory=dict)
    conditioned: list[Any] = field(default_factory=list)  # poll_states rows with conditions
    # the cursors no source of an enabled account is (disabled accounts', dropped sources', the
    # matcher's): left out of the claim, which then needs no list of the 30,000 wanted ones
    unwanted: list[int] = field(default_factory=list)
# At most this many sources are claimed by one run of the poll job (the most overdue first); the
# rest stay due for the next run, a few seconds later.
POLL_BATCH = 200


async def desired_sources(session: AsyncSession, account: Account, runtime: Runtime) -> list[str]:
    """The account's own sources, or the platform's choice from its rules' hashtags; and its mentions
    while "stop" by mention is on (where the platform reads them)."""
    return with_mentions(await _feeds(session, account, runtime), account.platform, account.stop_words_enabled)


def with_mentions(feeds: list[str], platform: str, stop_words_enabled: bool) -> list[str]:
    """The feeds, and the account's mentions while "stop" by mention is on (where the platform reads them)."""
    mentions = [MENTIONS] if stop_words_enabled and get_platform(platform).reads_mentions else []
    return list(dict.fromkeys([*feeds, *mentions]))


async def _feeds(session: AsyncSession, account: Account, runtime: Runtime) -> list[str]:
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


async def _wanted_sources(session: AsyncSession, runtime: Runtime, now: datetime,
                          cache: SourceCache) -> tuple[dict[int, list[str]], set[int], tuple[int, int] | None]:
    """Each active account's sources; derived ones are worked out again only when its rules or
    settings changed (parsing every rule on every tick would not scale to 100,000 rules). Every
    account is read again only when the accounts' or the rules' change mark moved; the marks are
    read first, so a write landing meanwhile leaves them past what is kept, and the next tick reads.
    Returns the sources of the accounts that may be polled now, the accounts held (conditions), and
    the marks of a read made now (kept in `cache` by the caller once it committed), else None."""
    accounts_mark, rules_mark = await change_mark(session, "accounts"), await change_mark(session, "rules")
    marks = None if accounts_mark is None or rules_mark is None else (accounts_mark, rules_mark)
    read = marks is None or marks != cache.marks
    if read:
        cache.marks = None  # kept only once what was read is committed (poll_due): new cursors with it
        await _read_accounts(session, runtime, now, cache)
    held = {account.id for account in cache.conditioned
            if needs_attention(account) or polls_blocked_until(account, now)}
    # (a shared rate limit: none of its sources is polled until it ends)
    wanted = {account_id: sources for account_id, sources in cache.wanted.items() if account_id not in held}
    return wanted, held, marks if read else None


async def _read_accounts(session: AsyncSession, runtime: Runtime, now: datetime, cache: SourceCache) -> None:
    """Every enabled account's sources into `cache` (and the cursors of new ones made)."""
    accounts = await accounts_repo.poll_states(session)
    # Rules make the sources only of accounts that name none (their rules' hashtags): the rules table
    # (100,000 rows) is grouped only when there is such an account.
    derived = any(not account.sources for account in accounts)
    rule_signatures = await rules_repo.signatures_by_account(session) if derived else {}
    wanted: dict[int, list[str]] = {}
    new: list[tuple[int, str]] = []  # the sources of accounts new or changed since the last tick
    for account in accounts:
        signature = (tuple(account.sources or ()), account.updated_at, rule_signatures.get(account.id),
                     account.stop_words_enabled)
        known = cache.derived.get(account.id)
        if known is None or known[0] != signature:
            sources = with_mentions(list(account.sources), account.platform, account.stop_words_enabled) \
                if account.sources else await desired_sources(session, await session.get_one(Account, account.id),
                                                             runtime)
            known = cache.derived[account.id] = (signature, sources)
            new += [(account.id, source) for source in known[1]]
        wanted[account.id] = known[1]
    await repository.ensure_cursors(session, new, now=now)
    pairs = {(account_id, source) for account_id, sources in wanted.items() for source in sources}
    cache.unwanted = [cursor_id for cursor_id, account_id, source in await repository.cursor_keys(session)
                      if (account_id, source) not in pairs]
    cache.wanted, cache.conditioned = wanted, [account for account in accounts if account.conditions]


async def _claim_due(runtime: Runtime, cache: SourceCache, now: datetime, busy: set[int], limit: int,
                     ahead: float) -> tuple[dict[int, list[str]], Sequence[Any], tuple[int, int] | None]:
    """In one transaction: the wanted sources (`_wanted_sources`), and the due cursors claimed, with
    their accounts (`repository.cursor_accounts`), and the marks of an accounts read made now. A
    cursor another worker made since this one read the accounts (an account added meanwhile) may be
    among them, its account not in `wanted` yet."""
    async with transaction(runtime.sessions) as session:
        wanted, held, marks = await _wanted_sources(session, runtime, now, cache)
        # Only sources still wanted are claimed; one no longer wanted keeps its cursor for later. The
        # claim leaves out the cursors not wanted and the accounts held or still polling (each list
        # one parameter, `among`, and short but for a mass change): a list of the 30,000 wanted
        # pairs, sent and hashed every tick, was a worker's costliest statement after the accounts.
        left_out = [among(Cursor.id, cache.unwanted)] if cache.unwanted else []
        if busy | held:
            left_out.append(among(Cursor.account_id, busy | held))
        due_now = Cursor.next_poll_at <= now + timedelta(seconds=ahead)
        ids = await claim(session, Cursor, Cursor.account_id.is_not(None), due_now, *[~c for c in left_out],
                          order=[Cursor.next_poll_at], limit=limit, owner=runtime.worker_id, now=now,
                          seconds=runtime.settings.lease_seconds) \
            if limit > 0 and any(account_id not in busy for account_id in wanted) else []
        rows = await repository.cursor_accounts(session, ids)
    return wanted, rows, marks


async def poll_due(runtime: Runtime, cache: SourceCache | None = None, fanout: Fanout | None = None, *,
                   wait: float | None = None, ahead: float = 0.0) -> int:
    """Poll the due sources of the enabled accounts, the most overdue first (up to POLL_BATCH); returns
    how many posts were new. Each source has its own due time (app/pipeline/poll_schedule.py).
    `cache` (kept by the caller across ticks) remembers each account's derived sources.
    Accounts are polled concurrently (`fanout`), each one's sources in turn; an account whose
    poll from an earlier round is still running is left out; `wait` as in Fanout.round. With
    `ahead`, sources due within that many seconds are claimed too, each fetched at its due time (the
    poll job passes its own interval). After a poll that used up its whole budget the account's
    other sources are given back (`one_by_one`)."""
    fanout = fanout or Fanout.of(runtime.settings)
    now = utcnow()
    busy = set(fanout.busy("poll"))
    # Claim no more than can start soon: sources claimed earlier and still waiting for a place count.
    # A worker that claimed POLL_BATCH every run whatever it could poll held hundreds of leases in
    # its queue, out of the reach of idle workers, until they ran out and two workers polled them.
    limit = POLL_BATCH - fanout.waiting("poll")
    cache = SourceCache() if cache is None else cache
    try:
        wanted, rows, marks = await _claim_due(runtime, cache, now, busy, limit, ahead)
    except BaseException:
        # what was read may not be stored (the new cursors rolled back): read and derive again
        cache.marks = None
        cache.derived.clear()
        raise
    if marks is not None:  # read and committed
        cache.marks = marks
    work: dict[int, tuple[str, list[int]]] = {}
    delays: dict[int, float] = {}  # an account whose first source is claimed ahead waits for it outside the fanout
    for cursor_id, account_id, platform, config, due in rows:
        if account_id not in work:
            delays[account_id] = min(max(0.0, (due - utcnow()).total_seconds()), ahead)
        work.setdefault(account_id, (host_of(platform, config), []))[1].append(cursor_id)
    jobs: dict[int, tuple[str, Callable[[], Awaitable[int]]]] = {
        aid: (host, partial(one_by_one, runtime, Cursor, cursor_ids,
                            partial(_poll_one, runtime, len(wanted.get(aid) or cursor_ids)),
                            budget=runtime.settings.poll_budget_seconds))
        for aid, (host, cursor_ids) in work.items()}
    return await fanout.round("poll", jobs, wait=wait, delays=delays)


async def _poll_one(runtime: Runtime, sources: int, cursor_id: int) -> int:
    """Fetch one source (of an account with `sources` sources) outside any transaction (within the poll
    budget), then store the posts and the new cursor position together, only while the lease is
    still ours; then set when it is due again. Never raises."""
    try:
        async with transaction(runtime.sessions) as session:
            cursor, account, _ = await _cursor_and_account(session, cursor_id)
            if needs_attention(account) or polls_blocked_until(account, utcnow()):
                # an earlier source of this round met refused credentials or a shared limit: asking
                # again would spend a login (Bluesky allows 30 in 5 minutes) or the limit itself
                await release(session, Cursor, [cursor_id], runtime.worker_id)
                return 0
        await _until_due(runtime, cursor.next_poll_at)
        async with Heartbeat(runtime, Cursor, [cursor_id]):
            answer = await Answer.of(_fetch(runtime, account, cursor.source, cursor.position))
        async with transaction(runtime.sessions) as session:
            # only while the lease is ours (else another worker polls it now: keep nothing), locked
            cursor, account, blocked_by_known = await _cursor_and_account(session, cursor_id, runtime.worker_id)
            if account.id in runtime.pending_credentials:  # the adapter refreshed its tokens meanwhile
                account.credentials_encrypted = runtime.pending_credentials.pop(account.id)
            limits = _bounds(runtime, account, sources, cursor.source)
            new = await _fetch_into_inbox(session, runtime, account, cursor, answer, limits)
            # given back with the outcome: the row is locked and was found ours above (leases.hold)
            cursor.lease_owner, cursor.lease_expires_at = None, None
        if not blocked_by_known:
            await _fetch_blocked_by(runtime, account)
        return new
    except LeaseLost:
        log.warning("lease lost: poll not recorded", extra={"cursor_id": cursor_id, "worker": runtime.worker_id})
        return 0
    except Exception as exc:  # an adapter bug on one source must not stop the others (logged)
        log.exception("poll crashed", extra={"cursor_id": cursor_id, "error_kind": describe(exc)[0]})
        async with transaction(runtime.sessions) as session:
            if not await hold(session, Cursor, cursor_id, runtime.worker_id):
                return 0
            cursor, account, _ = await _cursor_and_account(session, cursor_id)
            now = utcnow()
            cursor.poll_count += 1
            record_failure(cursor, account, exc, now=now, threshold=runtime.settings.source_failure_threshold)
            cursor.next_poll_at = due_after(now, backoff(_bounds(runtime, account, sources, cursor.source),
                                                         cursor.consecutive_failures))
            await release(session, Cursor, [cursor_id], runtime.worker_id)
        return 0


async def _until_due(runtime: Runtime, due: datetime) -> None:
    """Wait for a source claimed ahead of its time (never longer than one run of the poll job)."""
    early = min((due - utcnow()).total_seconds(), runtime.settings.dispatch_interval_seconds)
    if early > 0:
        await asyncio.sleep(early)


def _bounds(runtime: Runtime, account: Account, sources: int, source: str) -> Bounds:
    """The interval limits of one of the account's sources (its mentions are never slowed)."""
    settings = runtime.settings
    limits = bounds(settings.poll_interval_seconds, account.platform, sources, settings.poll_budget_share)
    return never_slowed(limits) if source == MENTIONS else limits


async def _cursor_and_account(session: AsyncSession, cursor_id: int,
                              held_by: str | None = None) -> tuple[Cursor, Account, bool]:
    """A claimed source's cursor, the account it polls for, and whether the account's blocked_by set
    is known; with `held_by`, only while that worker holds the lease (the row then locked)."""
    found = await repository.cursor_with_account(session, cursor_id, held_by=held_by)
    if found is None:  # deleted since it was claimed, or (held_by) taken over: a lost lease
        raise LeaseLost(f"cursor {cursor_id}")
    return found


async def _fetch(runtime: Runtime, account: Account, source: str, position: str | None) -> Fetched:
    """The platform call of a poll, abandoned (CallAbandoned) when it outlasts the poll budget."""
    feed = get_platform(account.platform).feed_source(
        context_for(account, runtime.fernet, runtime.pending_credentials), runtime.http)
    budget = runtime.settings.poll_budget_seconds
    return await within(budget, feed.fetch(source, position), f"{account.platform}: polling {source}")


class Answer:
    """What the platform answered a poll (its result, or the error it raised), made outside the
    transaction and handed to the code that records it, which reads it as it would a FeedSource."""

    def __init__(self, kept: Fetched | Exception) -> None:
        self.kept = kept

    @classmethod
    async def of(cls, call: Awaitable[Fetched]) -> Answer:
        """Await the call and keep what it gave, value or error."""
        try:
            return cls(await call)
        except Exception as exc:  # noqa: BLE001 - re-raised, inside the transaction, by fetch()
            return cls(exc)

    async def fetch(self, source: str, cursor: str | None) -> Fetched:
        """The kept answer (whatever source and cursor are asked): the value, or the error raised again."""
        if isinstance(self.kept, Exception):
            raise self.kept
        return self.kept


async def _fetch_into_inbox(session: AsyncSession, runtime: Runtime, account: Account, cursor: Cursor,
                            feed: Answer, limits: Bounds) -> int:
    now = utcnow()
    # The cursor is changed only after the posts are stored: its changes (count, position, due time,
    # the lease given back) then go as one UPDATE at the commit, not one flushed before the posts'
    # INSERT (autoflush) and a second after it.
    try:
        posts, position = await feed.fetch(cursor.source, cursor.position)
    except PlatformError as exc:
        cursor.poll_count += 1
        _poll_failed(runtime, account, cursor, exc, now, limits)
        return 0
    posts = inbox.storable_posts(posts)  # a NUL or a lone surrogate would fail the poll, every time
    position = storable_text(position) if position else position
    # Posts are shared by every account of the platform: a post two accounts' feeds both carry is one
    # post, matched once against all rules (non-public posts cannot be reposted on any platform anyway).
    if cursor.position is None:  # a new source: its history is not news; only the last hour's posts are
        since = now - timedelta(seconds=runtime.settings.first_poll_max_age_seconds)
        posts = [p for p in posts if p.created_at is None or p.created_at >= since]
    if cursor.source == MENTIONS:  # read for stop words; candidates only where the account lists it as a feed
        new = await stop.take_mentions(session, account=account, mentions=posts)
        if MENTIONS in (account.sources or ()):
            new += await inbox.store(session, posts)  # after the opt-outs: their authors are skipped
    else:
        new = await inbox.store(session, posts)
    cursor.poll_count += 1
    # how busy the source is: what it brought (not what was new to us: another account may have it)
    cursor.poll_interval_seconds = fitted(cursor.poll_interval_seconds, limits, fetched=len(posts))
    cursor.position, cursor.next_poll_at = position, due_after(now, cursor.poll_interval_seconds)
    record_success(cursor, account, now)
    clear_rate_limits(account, source=cursor.source, now=now)
    expire(account, now)
    log.info("polled", extra={"account_id": account.id, "source": cursor.source, "posts": len(posts), "new": new})
    return new


def _poll_failed(runtime: Runtime, account: Account, cursor: Cursor, exc: PlatformError, now: datetime,
                 limits: Bounds) -> None:
    """Record the failure on the source (kind, status, message, time, count) and on the account;
    the source backs off (doubling with each failure in a row), or waits for its rate limit's end."""
    record_failure(cursor, account, exc, now=now, threshold=runtime.settings.source_failure_threshold)
    cursor.next_poll_at = due_after(now, backoff(limits, cursor.consecutive_failures))
    if isinstance(exc, RateLimited):
        cursor.next_poll_at = exc.retry_at
        # The limit is on the platform's bucket: only a shared one holds the account's sends.
        record_rate_limit(account, bucket=exc.bucket, until=exc.retry_at, during="poll", source=cursor.source)
    elif isinstance(exc, CredentialsInvalid):
        credentials_refused(account, exc)
    log.warning("poll failed", extra={"account_id": account.id, "source": cursor.source, "error_kind": exc.kind,
                                      "http_status": exc.status, "error": str(exc),
                                      "consecutive_failures": cursor.consecutive_failures})


async def _fetch_blocked_by(runtime: Runtime, account: Account) -> None:
    """Authors who block the account have opted out: fetch that set once (outside any transaction,
    within the poll budget); relations.refresh_due keeps it fresh."""
    client = get_platform(account.platform).action_client(
        context_for(account, runtime.fernet, runtime.pending_credentials), runtime.http)
    getter = getattr(client, "blocked_by", None)
    members: set[str] = set()
    error: str | None = None
    try:
        if getter is not None:
            members = await within(runtime.settings.poll_budget_seconds, getter(),
                                   f"{account.platform}: reading who blocks the account")
    except PlatformError as exc:  # kept as an error on the row; refresh_due tries again later
        error = str(exc)
        log.warning("relation refresh failed", extra={"account_id": account.id, "kind": "blocked_by", "error": error})
    async with transaction(runtime.sessions) as session:
        if account.id in runtime.pending_credentials:  # the adapter refreshed its tokens meanwhile
            await accounts_repo.set_credentials(session, account_id=account.id,
                                                blob=runtime.pending_credentials.pop(account.id))
        await accounts_repo.add_relation(session, account_id=account.id, kind="blocked_by",
                                         members=sorted({m.lower() for m in members}), error=error, at=utcnow())
