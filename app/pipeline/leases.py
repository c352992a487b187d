"""Leases: a worker claims rows for a while; a dead worker's claims expire and others take over."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.dialect import skip_locked


def free(model, now: datetime):
    """Rows nobody holds (or whose holder's lease ran out)."""
    return or_(model.lease_expires_at.is_(None), model.lease_expires_at < now)


async def claim(session: AsyncSession, model, *conditions, order, limit: int, owner: str, now: datetime,
                seconds: int) -> list[int]:
    """Lease up to `limit` free rows matching `conditions` to `owner`; returns their ids. Caller commits."""
    query = select(model.id).where(*conditions, free(model, now)).order_by(*order).limit(limit)
    ids = list(await session.scalars(skip_locked(session, query)))
    if ids:
        await session.execute(
            update(model).where(model.id.in_(ids)).values(lease_owner=owner, lease_expires_at=now + timedelta(seconds=seconds))
        )
    return ids


async def release(session: AsyncSession, model, ids: list[int]) -> None:
    """Give rows back."""
    if ids:
        await session.execute(update(model).where(model.id.in_(ids)).values(lease_owner=None, lease_expires_at=None))
