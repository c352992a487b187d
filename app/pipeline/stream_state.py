"""Each account's push feed as its owner should see it: connecting, connected, reconnecting (with the
last error), unavailable or stopped. The streamer records; the accounts API reads (with `off` when
the account does not stream, and the `stream` condition's word when the server offers none)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.base import utcnow
from app.db.session import transaction
from app.models import StreamState
from app.pipeline import repository
from app.pipeline.source_health import describe


class StreamPhase(StrEnum):
    connecting = "connecting"  # the streamer is opening it
    connected = "connected"
    reconnecting = "reconnecting"  # it dropped; retrying with backoff (see the error)
    unavailable = "unavailable"  # the platform or server offers no stream; polling carries the feed
    stopped = "stopped"  # given up until a person acts (refused credentials)


async def record(sessions: async_sessionmaker[AsyncSession], account_id: int, phase: StreamPhase | str, *,
                 error: BaseException | None = None, worker_id: str | None = None, at: datetime | None = None) -> None:
    """Write the stream's new phase; an older report (`at` before the row's) never overwrites a newer."""
    at = at or utcnow()
    async with transaction(sessions) as session:
        row = await repository.stream_state_locked(session, account_id=account_id, state=StreamPhase.connecting.value,
                                                   at=at)
        if row.updated_at > at:
            return
        _apply(row, StreamPhase(phase), error, at)
        row.worker_id = worker_id


async def saw_post(session: AsyncSession, account_id: int, at: datetime) -> None:
    """A post came through the stream: it is connected, whatever was said before."""
    await repository.stream_post_seen(session, account_id=account_id, state=StreamPhase.connected.value, at=at)


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
