"""An account's health in one answer: why it needs attention, its warnings and rate limits, each
source's polls, its stream and its cached lists, and how much waits to be sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository
from app.accounts.conditions import HOLDS_POLLS, Severity, current
from app.accounts.schemas import (
    AccountHealth,
    ConditionRead,
    ErrorRead,
    RateLimitRead,
    RelationHealth,
    SourceHealth,
    StreamRead,
)
from app.actions.repository import being_undone
from app.db.base import utcnow
from app.models import Account, Cursor, StreamState
from app.pipeline.dispatcher import due
from app.pipeline.poller import desired_sources
from app.platforms.base import MENTIONS

RATE_LIMITED = "rate_limited:"


async def account_health(session: AsyncSession, *, account: Account, runtime) -> AccountHealth:
    """Build the whole health view of one account (read only: nothing is changed)."""
    now = utcnow()
    view = current(account, now)  # as of now: a limit whose time has passed is gone
    conditions = sorted((ConditionRead(**c) for c in view.conditions.values()), key=lambda c: c.code)
    waiting, oldest = await repository.waiting_actions(session, account.id, due(now, runtime.settings.max_attempts))
    undos, _ = await repository.waiting_actions(session, account.id, being_undone())
    return AccountHealth(
        account_id=account.id, status=view.status, status_detail=view.status_detail,
        needs_attention=[c for c in conditions if c.severity == Severity.attention],
        warnings=[c for c in conditions if c.severity == Severity.warning],
        rate_limits=[_rate_limit(c) for c in conditions if c.code.startswith(RATE_LIMITED)],
        stream=stream_read(account, conditions, await repository.stream_state(session, account.id)),
        sources=await source_health(session, account=account, runtime=runtime),
        relations=[RelationHealth(kind=r.kind, members=len(r.members or []), refreshed_at=r.refreshed_at, error=r.error)
                   for r in await repository.relations(session, account.id)],
        actions_waiting=waiting, oldest_waiting_since=oldest, undos_waiting=undos,
    )


async def source_health(session: AsyncSession, *, account: Account, runtime) -> list[SourceHealth]:
    """Every source the account has polled or will poll, wanted ones first, its mentions after its feeds."""
    wanted = set(await desired_sources(session, account, runtime))
    rows = {c.source: _source(c, c.source in wanted) for c in await repository.cursors(session, account.id)}
    for source in wanted - set(rows):  # wanted, but no worker has taken it up yet
        rows[source] = SourceHealth(source=source, wanted=True, state="never_polled", last_polled_at=None,
                                    last_success_at=None, last_error=None, consecutive_failures=0,
                                    next_poll_at=None, poll_count=0, error_count=0)
    return sorted(rows.values(), key=lambda s: (not s.wanted, s.source == MENTIONS, s.source))


def stream_read(account: Account, conditions: list[ConditionRead], row: StreamState | None) -> StreamRead:
    """The stream as its owner should see it; the `stream` condition (no streaming here) wins."""
    if not account.enabled or not (account.config or {}).get("stream"):
        return StreamRead(state="off")
    unavailable = next((c for c in conditions if c.code == "stream"), None)
    if unavailable is not None:
        return StreamRead(state="unavailable", since=unavailable.since, message=unavailable.message)
    if row is None:
        return StreamRead(state="starting", message="no worker has opened the stream yet")
    error = _error(row.error_kind, row.error_status, row.error, row.error_at)
    return StreamRead(state=row.state, since=row.since, connected_at=row.connected_at, last_post_at=row.last_post_at,
                      failures=row.failures, last_error=error, message=error.message if error and
                      row.state in ("reconnecting", "unavailable", "stopped") else None)


def _rate_limit(condition: ConditionRead) -> RateLimitRead:
    bucket = condition.bucket or condition.code.removeprefix(RATE_LIMITED)
    holds = condition.holds or HOLDS_POLLS
    return RateLimitRead(bucket=bucket, until=condition.until, holds=holds, holds_sends=holds != HOLDS_POLLS,
                         message=condition.message)


def _source(cursor: Cursor, wanted: bool) -> SourceHealth:
    if cursor.last_polled_at is None:
        state = "never_polled"
    else:
        state = "failing" if cursor.consecutive_failures else "ok"
    return SourceHealth(source=cursor.source, wanted=wanted, state=state, last_polled_at=cursor.last_polled_at,
                        last_success_at=cursor.last_success_at, consecutive_failures=cursor.consecutive_failures,
                        last_error=_error(cursor.error_kind, cursor.error_status, cursor.error, cursor.error_at),
                        next_poll_at=cursor.next_poll_at, poll_count=cursor.poll_count, error_count=cursor.error_count)


def _error(kind: str | None, status: int | None, message: str | None, at: datetime | None) -> ErrorRead | None:
    if message is None:
        return None
    return ErrorRead(kind=kind or "unknown", http_status=status, message=message, at=at)
