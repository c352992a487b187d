"""Leases: a worker claims rows for a while; a dead worker's claims expire and others take over.

A live worker keeps its lease while work is in hand (`Heartbeat` renews it), and writes an
outcome only while the lease is still its own (`hold`, in the transaction that writes): a worker
that lost its lease (it hung, its database connection dropped, another worker took the row over)
records nothing, because the row is another worker's now.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from app.db.base import utcnow
from app.db.dialect import skip_locked
from app.db.session import transaction
from app.models import Action, AlertDelivery, Cursor
from app.runtime import Runtime

log = logging.getLogger("reposter.leases")


# The tables whose rows are leased: each has id, lease_owner and lease_expires_at.
Leased = type[Action] | type[Cursor] | type[AlertDelivery]
Order = ColumnElement[Any] | QueryableAttribute[Any]


class LeaseLost(Exception):
    """The worker's lease on a row was taken over: what it did is not to be recorded."""


def free(model: Leased, now: datetime) -> ColumnElement[bool]:
    """Rows nobody holds (or whose holder's lease ran out)."""
    return or_(model.lease_expires_at.is_(None), model.lease_expires_at < now)


async def claim(session: AsyncSession, model: Leased, *conditions: ColumnElement[bool], order: Sequence[Order],
                limit: int, owner: str, now: datetime, seconds: int) -> list[int]:
    """Lease up to `limit` free rows matching `conditions` to `owner`; returns their ids. Caller commits."""
    query = select(model.id).where(*conditions, free(model, now)).order_by(*order).limit(limit)
    ids = list(await session.scalars(skip_locked(session, query)))
    if ids:
        await session.execute(
            update(model).where(model.id.in_(ids))
            .values(lease_owner=owner, lease_expires_at=now + timedelta(seconds=seconds))
        )
    return ids


async def hold(session: AsyncSession, model: Leased, row_id: int, owner: str, seconds: int | None = None) -> bool:
    """Whether `owner` still holds the row; locks it (PostgreSQL) for the rest of the transaction,
    so that nobody takes it over before the outcome is written. With `seconds`, extends the lease."""
    query = select(model.id).where(model.id == row_id, model.lease_owner == owner).with_for_update()
    if await session.scalar(query) is None:
        return False
    if seconds is not None:
        await session.execute(update(model).where(model.id == row_id)
                              .values(lease_expires_at=utcnow() + timedelta(seconds=seconds)))
    return True


async def held(session: AsyncSession, model: Leased, ids: list[int], owner: str) -> set[int]:
    """Those of `ids` that `owner` still holds, locked (PostgreSQL, in id order) for the rest of the
    transaction: `hold` for many rows at once."""
    if not ids:
        return set()
    query = (select(model.id).where(model.id.in_(ids), model.lease_owner == owner)
             .order_by(model.id).with_for_update())
    return set(await session.scalars(query))


async def renew(session: AsyncSession, model: Leased, ids: list[int], owner: str, seconds: int) -> list[int]:
    """Extend `owner`'s leases on `ids`; returns the ids another worker holds now. Caller commits.
    (A row nobody holds was given back, by its owner: not taken over.)"""
    if not ids:
        return []
    rows = await session.execute(select(model.id, model.lease_owner).where(model.id.in_(ids)))
    owners = {row.id: row.lease_owner for row in rows}
    held = [i for i, who in owners.items() if who == owner]
    if held:
        await session.execute(update(model).where(model.id.in_(held), model.lease_owner == owner)
                              .values(lease_expires_at=utcnow() + timedelta(seconds=seconds)))
    return [i for i, who in owners.items() if who not in (owner, None)]


async def release(session: AsyncSession, model: Leased, ids: list[int], owner: str | None = None) -> None:
    """Give rows back (with `owner`: only those it still holds, never another worker's lease)."""
    if ids:
        query = update(model).where(model.id.in_(ids))
        if owner is not None:
            query = query.where(model.lease_owner == owner)
        await session.execute(query.values(lease_owner=None, lease_expires_at=None))


async def release_all(session: AsyncSession, owner: str) -> dict[str, int]:
    """Give back every lease `owner` holds (shutdown), one UPDATE per leased table; the rows freed,
    by table. Caller commits. A `sending` action freed so is settled by reconcile, never re-sent."""
    released = {}
    for model in (Cursor, Action, AlertDelivery):
        result = await session.execute(update(model).where(model.lease_owner == owner)
                                       .values(lease_owner=None, lease_expires_at=None))
        released[model.__tablename__] = result.rowcount  # type: ignore[attr-defined]
    return released


class Heartbeat:
    """Renews a worker's lease on some rows while work on them is in hand (a platform call that
    may outlast the lease). `lost` tells whether the lease was found taken over meanwhile.

    Renewals run every third of the lease in their own short transactions; one that fails (the
    database is restarting) is logged and tried again at the next beat.
    """

    def __init__(self, runtime: Runtime, model: Leased, ids: list[int]) -> None:
        self.sessions, self.model, self.ids = runtime.sessions, model, list(ids)
        self.owner, self.seconds = runtime.worker_id, runtime.settings.lease_seconds
        self.lost = False
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Heartbeat:
        self._task = asyncio.create_task(self._beat())
        return self

    async def __aexit__(self, *exc: object) -> None:
        # Stopped between beats, never cancelled inside a renewal's transaction.
        self._stop.set()
        if self._task is not None:
            await self._task

    async def _beat(self) -> None:
        while not self.lost:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), max(0.05, self.seconds / 3))
            if self._stop.is_set():
                return
            try:
                async with transaction(self.sessions) as session:
                    taken = await renew(session, self.model, self.ids, self.owner, self.seconds)
            except Exception as exc:  # noqa: BLE001 - the database may be restarting; try again
                log.warning("lease renewal failed", extra={"table": self.model.__tablename__, "error": str(exc)})
                continue
            if taken:
                self.lost = True
                log.warning("lease lost", extra={"table": self.model.__tablename__, "owner": self.owner,
                                                 "ids": sorted(taken)})
