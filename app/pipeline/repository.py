"""Every query of the pipeline's own tables (the inbox, the sources' cursors, stream states) and the
few reads of actions the pipeline makes while it decides; queries of a domain's tables are in that
domain's repository (accounts, rules, moderation, filters)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import (
    CursorResult,
    Row,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.dialect import among, insert_ignore, insert_many, is_postgres, skip_locked
from app.engine.timing import Window
from app.models import Account, Action, ActionStatus, Cursor, SeenPost, StreamState
from app.models.moderation import RelationCache

ARRIVALS_CHANNEL = "reposter_arrivals"  # PostgreSQL NOTIFY channel: posts landed in the inbox
MATCH_CURSOR = "match"  # the source name of the matcher's own cursor (no account)
INSERT_BATCH = 500  # rows per INSERT: well under either engine's limit on bound parameters

M = TypeVar("M")


async def by_id(session: AsyncSession, model: type[M], row_id: Any) -> M | None:
    """The row of `model` with this id, as this session sees it now."""
    return await session.get(model, row_id)


# -- the inbox ---------------------------------------------------------------------------------

async def insert_posts(session: AsyncSession, rows: list[dict[str, Any]]) -> int:
    """Insert inbox rows whose (platform, post id) is new, in the order given (their ids are the
    matcher's order); returns how many were inserted. One statement (`insert_many`)."""
    if not rows:
        return 0
    result = await insert_many(session, SeenPost.__table__, rows, conflict=["platform", "post_id"], returning=["id"],
                               page=INSERT_BATCH)
    return len(result.all())


async def seen_post_id(session: AsyncSession, *, platform: str, post_id: str) -> int | None:
    """The inbox row's id of a post (by its inbox key), None when it is not stored."""
    return await session.scalar(select(SeenPost.id).where(SeenPost.platform == platform, SeenPost.post_id == post_id))


async def notify_arrivals(session: AsyncSession, sender: str) -> bool:
    """On PostgreSQL, tell every listening worker that posts landed (delivered when this transaction
    commits, never if it rolls back); `sender` lets the sending process ignore its own. False on SQLite."""
    if not is_postgres(session):
        return False
    await session.execute(select(func.pg_notify(ARRIVALS_CHANNEL, sender)))
    return True


async def posts_after(session: AsyncSession, *, after: int,
                      limit: int) -> Sequence[Row[int, int | None, dict[str, Any]]]:
    """(id, source account id, post data) of up to `limit` inbox rows past the id `after`, oldest first
    (plain rows: the matcher only reads them)."""
    query = (select(SeenPost.id, SeenPost.source_account_id, SeenPost.data)
             .where(SeenPost.id > after).order_by(SeenPost.id).limit(limit))
    return (await session.execute(query)).all()


async def newest_posts(session: AsyncSession, *, platform: str, limit: int,
                       since: datetime | None = None) -> Sequence[SeenPost]:
    """The `limit` newest inbox rows of a platform (seen at or after `since`, if given), newest first."""
    query = select(SeenPost).where(SeenPost.platform == platform).order_by(SeenPost.id.desc()).limit(limit)
    if since is not None:
        query = query.where(SeenPost.seen_at >= since)
    return (await session.scalars(query)).all()


async def prune_posts(session: AsyncSession, *, older_than: datetime, matched_through: int) -> int:
    """Delete matched inbox rows older than `older_than` that no action refers to; returns how many."""
    referenced = select(Action.seen_post_id).where(Action.seen_post_id == SeenPost.id).exists()
    query = delete(SeenPost).where(SeenPost.seen_at < older_than, SeenPost.id <= matched_through, ~referenced)
    result = cast(CursorResult[Any], await session.execute(query))  # a DELETE's result: it has a rowcount
    return result.rowcount or 0


# -- cursors -----------------------------------------------------------------------------------

async def cursor(session: AsyncSession, cursor_id: int) -> Cursor | None:
    """One cursor by its id."""
    return await session.get(Cursor, cursor_id)


async def cursor_with_account(session: AsyncSession, cursor_id: int, *,
                              held_by: str | None = None) -> tuple[Cursor, Account, bool] | None:
    """A cursor, the account it polls for, and whether that account's `blocked_by` set is cached,
    in one statement (None: the cursor or its account is gone). With `held_by`: only while that
    worker holds the cursor's lease, the cursor row then locked (PostgreSQL; not the account's) for
    the rest of the transaction, as leases.hold does. A poll read these in five statements (the lease,
    the cursor, the account, the relation), round trips that were most of a worker's CPU."""
    known = (select(RelationCache.account_id)
             .where(RelationCache.account_id == Account.id, RelationCache.kind == "blocked_by").exists())
    query = (select(Cursor, Account, known).join(Account, Account.id == Cursor.account_id)
             .where(Cursor.id == cursor_id))
    if held_by is not None:
        query = query.where(Cursor.lease_owner == held_by).with_for_update(of=Cursor)
    row = (await session.execute(query)).first()
    return None if row is None else (row[0], row[1], bool(row[2]))


async def ensure_cursor(session: AsyncSession, *, account_id: int, source: str, now: datetime) -> None:
    """The account's cursor on `source`, made (due at `now`) unless it exists."""
    await ensure_cursors(session, [(account_id, source)], now=now)


ENSURE_BATCH = 1000  # rows per INSERT (3 parameters each: well within SQLite's 32,766)


async def ensure_cursors(session: AsyncSession, pairs: Sequence[tuple[int, str]], *, now: datetime) -> None:
    """Each (account id, source)'s cursor, made (due at `now`) unless it exists: one multi-row
    INSERT ... ON CONFLICT DO NOTHING per ENSURE_BATCH pairs (a worker starting with 30,000 sources
    made them one statement each, a round trip apiece, before its first poll)."""
    rows = [{"account_id": account_id, "source": source, "next_poll_at": now} for account_id, source in pairs]
    for start in range(0, len(rows), ENSURE_BATCH):
        await session.execute(insert_ignore(session, Cursor, conflict=["account_id", "source"])
                              .values(rows[start:start + ENSURE_BATCH]))


async def cursor_keys(session: AsyncSession) -> Sequence[Row[int, int | None, str]]:
    """(id, account id, source) of every cursor."""
    return (await session.execute(select(Cursor.id, Cursor.account_id, Cursor.source))).all()


async def cursor_accounts(session: AsyncSession, ids: list[int]) -> Sequence[Row[int, int, str, Any, datetime]]:
    """(cursor id, account id, platform, account config, due time) of these cursors, the most overdue first."""
    query = (select(Cursor.id, Account.id, Account.platform, Account.config, Cursor.next_poll_at)
             .join(Account, Account.id == Cursor.account_id).where(Cursor.id.in_(ids))
             .order_by(Cursor.next_poll_at, Cursor.id))
    return (await session.execute(query)).all()


def _match_cursor() -> tuple[Any, ...]:
    return (Cursor.account_id.is_(None), Cursor.source == MATCH_CURSOR)


async def match_position(session: AsyncSession) -> int:
    """The id of the last inbox post the matcher has read (0 before the first)."""
    return int(await session.scalar(select(Cursor.position).where(*_match_cursor())) or 0)


async def lock_match_cursor(session: AsyncSession, *, now: datetime) -> Cursor | None:
    """The matcher's cursor (made at 0 the first time), locked; None while another worker holds it."""
    query = skip_locked(session, select(Cursor).where(*_match_cursor()))
    cursor: Cursor | None = await session.scalar(query)
    if cursor is None and await session.scalar(select(Cursor.id).where(*_match_cursor())) is None:
        # made the first time only: a worker that found it locked tried an INSERT each time (with
        # four workers, the third busiest statement of bench/scale.py)
        await session.execute(insert_ignore(session, Cursor).values(
            account_id=None, source=MATCH_CURSOR, position="0", next_poll_at=now))
        cursor = await session.scalar(query)
    return cursor


# -- actions, as the matcher and the limits see them -------------------------------------------

async def insert_actions(session: AsyncSession, rows: list[dict[str, Any]]) -> list[tuple[int, int, str, str, str]]:
    """Insert action rows, a row whose account already has one of that kind on that post inserting
    nothing; returns (id, account id, status, post id, kind) of those inserted. One statement
    (`insert_many`: one array a column on PostgreSQL, multi-row INSERTs of INSERT_BATCH rows on SQLite)."""
    if not rows:
        return []
    result = await insert_many(session, Action.__table__, rows, conflict=["account_id", "post_id", "kind"],
                               returning=["id", "account_id", "status", "post_id", "kind"], page=INSERT_BATCH)
    values: list[tuple[Any, ...]] = [tuple(row) for row in result]
    return [(int(i), int(a), str(s), str(p), str(k)) for i, a, s, p, k in values]


async def spread_window(session: AsyncSession, *, account_id: int, rule_id: int) -> Window | None:
    """The rule's latest spread window for the account (its start, how many actions it holds), or None.
    Read under the match cursor's lock, so no other batch is adding to it meanwhile."""
    start = await session.scalar(select(func.max(Action.spread_start)).where(
        Action.rule_id == rule_id, Action.account_id == account_id))
    if start is None:
        return None
    taken = await session.scalar(select(func.count()).select_from(Action).where(
        Action.rule_id == rule_id, Action.account_id == account_id, Action.spread_start == start))
    return Window(start, int(taken or 0))


async def existing_actions(session: AsyncSession, keys: list[tuple[int, str, str]]) -> set[tuple[int, str, str]]:
    """Those of these (account id, post id, kind) that have an action row already. Asked as account
    IN (...) AND post IN (...), which the unique index answers, a chunk of posts at a time."""
    wanted = set(keys)
    accounts = sorted({account_id for account_id, _, _ in keys})
    posts = sorted({post_id for _, post_id, _ in keys})
    found: set[tuple[int, str, str]] = set()
    for start in range(0, len(posts), INSERT_BATCH):
        query = select(Action.account_id, Action.post_id, Action.kind).where(
            among(Action.account_id, accounts), among(Action.post_id, posts[start : start + INSERT_BATCH]))
        found.update((a, p, str(k)) for a, p, k in await session.execute(query))
    return found & wanted


async def texts_of_accounts(session: AsyncSession, *, account_ids: Collection[int], since: datetime,
                            statuses: Sequence[str]) -> Sequence[Row[int, datetime, str | None]]:
    """(account id, created_at, text) of these accounts' actions in `statuses` made since `since`."""
    query = select(Action.account_id, Action.created_at, Action.text).where(
        among(Action.account_id, account_ids), Action.created_at >= since, Action.status.in_(statuses))
    return (await session.execute(query)).all()


async def acted_since(session: AsyncSession, *, account_id: int, since: datetime, undo: bool) -> list[datetime]:
    """When the account's actions were sent (or undone, with `undo`) since `since`."""
    column = Action.undone_at if undo else Action.sent_at
    query = select(column).where(Action.account_id == account_id, column.is_not(None), column >= since)
    return [at for at in await session.scalars(query) if at is not None]


async def acted_since_by_account(session: AsyncSession, *, account_ids: Collection[int],
                                 since: datetime) -> dict[int, list[datetime]]:
    """When each of these accounts' actions were sent since `since` (one query for them all)."""
    sent: dict[int, list[datetime]] = {account_id: [] for account_id in account_ids}
    if sent:
        query = select(Action.account_id, Action.sent_at).where(
            among(Action.account_id, sent), Action.sent_at.is_not(None), Action.sent_at >= since)
        for account_id, at in await session.execute(query):
            if at is not None:
                sent[account_id].append(at)
    return sent


# -- stream states -----------------------------------------------------------------------------

async def stream_state_locked(session: AsyncSession, *, account_id: int, state: str, at: datetime) -> StreamState:
    """The account's stream state row (made in `state` at `at` if missing), reloaded and locked."""
    await session.execute(insert_ignore(session, StreamState, conflict=["account_id"]).values(
        account_id=account_id, state=state, since=at, updated_at=at, failures=0))
    row = await session.get(StreamState, account_id, populate_existing=True, with_for_update=True)
    assert row is not None  # inserted above if it was missing
    return row


async def stream_post_seen(session: AsyncSession, *, account_id: int, state: str, at: datetime) -> None:
    """A post came through the account's stream at `at`: it is in `state`, its failures over."""
    await session.execute(update(StreamState).where(StreamState.account_id == account_id)
                          .values(last_post_at=at, updated_at=at, state=state, failures=0))


async def release_held(session: AsyncSession, held: dict[int, datetime]) -> None:
    """Queued actions held for a lookup (action id -> when they were due before): due again as before."""
    by_due: dict[datetime, list[int]] = {}
    for action_id, due in held.items():
        by_due.setdefault(due, []).append(action_id)
    for due, ids in by_due.items():
        for start in range(0, len(ids), 500):
            await session.execute(update(Action).where(Action.id.in_(ids[start:start + 500]),
                                                       Action.status == ActionStatus.queued,
                                                       Action.next_attempt_at > due).values(next_attempt_at=due))
