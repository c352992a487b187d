"""The few statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, String
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


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


class hour_of(FunctionElement[str]):  # lower case: used as a SQL function is
    """The UTC hour of a timestamp column as text, `YYYY-MM-DD HH`, on either engine: for grouping by hour."""

    type = String()
    inherit_cache = True


@compiles(hour_of, "sqlite")
def _hour_sqlite(element: hour_of, compiler: Any, **kw: Any) -> str:
    # SQLite keeps UTC timestamps as ISO text without a zone
    return f"strftime('%Y-%m-%d %H', {compiler.process(element.clauses, **kw)})"


@compiles(hour_of, "postgresql")
def _hour_postgres(element: hour_of, compiler: Any, **kw: Any) -> str:
    # AT TIME ZONE 'UTC' so the session's TimeZone setting cannot move the bucket
    return f"to_char(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24')"
