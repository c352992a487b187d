"""Change marks (migration 0019): counters the database moves on every write to a table, so that a
worker asks one row whether anything changed before reading the table itself."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import ChangeMark


async def change_mark(session: AsyncSession, table: str) -> int | None:
    """`table`'s mark (`rules`, `accounts`); None when its row is missing (then the table must be read)."""
    return await session.scalar(select(ChangeMark.version).where(ChangeMark.name == table))
