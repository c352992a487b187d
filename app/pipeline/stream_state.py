"""Each account's push feed as its owner should see it: connecting, connected, reconnecting (with the
last error), unavailable or stopped. The streamer records; the accounts API reads (with `off` when
the account does not stream, and the `stream` condition's word when the server offers none)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow
from app.db.dialect import insert_ignore
from app.db.session import transaction
from app.models import StreamState
from app.pipeline.source_health import describe


class StreamPhase(StrEnum):
    connecting = "connecting"  # the streamer is opening it
    connected = "connected"
    reconnecting = "reconnecting"  # it dropped; retrying with backoff (see the error)
    unavailable = "unavailable"  # the platform or server offers no stream; polling carries the feed
    stopped = "stopped"  # given up until a person acts (refused credentials)


async def record(sessions, account_id: int, phase: StreamPhase | str, *, error: BaseException | None = None,
                 worker_id: str | None = None, at: datetime | None = None) -> None:
    """Write the stream's new phase; an older report (`at` before the row's) never overwrites a newer."""
    at = at or utcnow()
    async with transaction(sessions) as session:
        row = await _row(session, account_id, at)
        if row.updated_at > at:
            return
        _apply(row, StreamPhase(phase), error, at)
        row.worker_id = worker_id


async def saw_post(session: AsyncSession, account_id: int, at: datetime) -> None:
    """A post came through the stream: it is connected, whatever was said before."""
    await session.execute(update(StreamState).where(StreamState.account_id == account_id)
                          .values(last_post_at=at, updated_at=at, state=StreamPhase.connected.value, failures=0))


async def _row(session: AsyncSession, account_id: int, at: datetime) -> StreamState:
    await session.execute(insert_ignore(session, StreamState, conflict=["account_id"]).values(
        account_id=account_id, state=StreamPhase.connecting.value, since=at, updated_at=at, failures=0))
    return await session.get(StreamState, account_id, populate_existing=True, with_for_update=True)


def _apply(row: StreamState, phase: StreamPhase, error: BaseException | None, at: datetime) -> None:
    if row.state != phase:
        row.state, row.since = phase.value, at
    row.updated_at = at
    if phase == StreamPhase.connected:
        row.connected_at, row.failures = at, 0
    if error is not None:
        row.error_kind, row.error_status, row.error = describe(error)
        row.error_at = at
        row.failures = (row.failures or 0) + (phase == StreamPhase.reconnecting)
