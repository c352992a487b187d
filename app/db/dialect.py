"""The few statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def insert_ignore(session: AsyncSession, table: Any, *,
                  conflict: list[str] | None = None) -> postgresql.Insert | sqlite.Insert:
    """INSERT ... ON CONFLICT [(conflict)] DO NOTHING, on either engine."""
    dialect = postgresql if is_postgres(session) else sqlite
    return dialect.insert(table).on_conflict_do_nothing(index_elements=conflict)


def skip_locked(session: AsyncSession, query: Select) -> Select:
    """FOR UPDATE SKIP LOCKED on PostgreSQL, so workers never claim the same rows; SQLite runs one worker."""
    return query.with_for_update(skip_locked=True) if is_postgres(session) else query
