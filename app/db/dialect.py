"""The few statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Boolean, ColumnDefault, Dialect, Result, Select, String, Text, TypeDecorator, bindparam, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeEngine


def is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def insert_ignore(session: AsyncSession, table: Any, *,
                  conflict: list[str] | None = None) -> postgresql.Insert | sqlite.Insert:
    """INSERT ... ON CONFLICT [(conflict)] DO NOTHING, on either engine."""
    dialect = postgresql if is_postgres(session) else sqlite
    return dialect.insert(table).on_conflict_do_nothing(index_elements=conflict)


async def insert_many(session: AsyncSession, table: Any, rows: list[dict[str, Any]], *, conflict: list[str],
                      returning: list[str], page: int) -> Result[Any]:
    """INSERT rows ... ON CONFLICT (conflict) DO NOTHING RETURNING the `returning` columns of the rows
    inserted, inserted in the order given.

    On PostgreSQL one statement whose one parameter is the rows as a JSON array, each element read into
    the table's own row type (`jsonb_populate_record`, so every column gets its declared type): its
    text is the same whatever the number of rows, so neither the driver nor the server parses it
    again, and the rows are written by the json module at C speed. A multi-row VALUES of thousands of
    parameters is parsed anew each time, and an array a column is escaped value by value in Python;
    in bench/pipeline.py those were two fifths of the matcher's time. On SQLite, multi-row VALUES of
    `page` rows (SQLAlchemy's "insertmanyvalues")."""
    if not is_postgres(session):
        stmt = (sqlite.insert(table).on_conflict_do_nothing(index_elements=conflict)
                .returning(*[table.c[name] for name in returning]))
        return await session.execute(stmt.execution_options(insertmanyvalues_page_size=page), rows)
    given = set().union(*rows)
    defaults = {column.name: column.default.arg if column.default.is_scalar else column.default.arg(None)
                for column in table.columns
                if column.name not in given and isinstance(column.default, ColumnDefault)}
    names = [column.name for column in table.columns if column.name in given or column.name in defaults]
    quote = session.get_bind().dialect.identifier_preparer
    table_name, columns = quote.format_table(table), ", ".join(quote.quote(name) for name in names)
    statement = text(
        f"INSERT INTO {table_name} ({columns}) SELECT {', '.join('r.' + quote.quote(n) for n in names)} "
        f"FROM jsonb_array_elements(CAST(:rows AS jsonb)) WITH ORDINALITY AS given(value, position) "
        f"CROSS JOIN LATERAL jsonb_populate_record(NULL::{table_name}, given.value) AS r ORDER BY given.position "
        f"ON CONFLICT ({', '.join(quote.quote(name) for name in conflict)}) DO NOTHING "
        f"RETURNING {', '.join(quote.quote(name) for name in returning)}")
    document = json.dumps([{**defaults, **row} for row in rows], default=_json_value)
    return await session.execute(statement, {"rows": document})


def _json_value(value: Any) -> str:
    """A value the json module does not know, as PostgreSQL reads it: datetimes in ISO 8601 (UTC when naive)."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def skip_locked(session: AsyncSession, query: Select) -> Select:
    """FOR UPDATE SKIP LOCKED on PostgreSQL, so workers never claim the same rows; SQLite runs one worker."""
    return query.with_for_update(skip_locked=True) if is_postgres(session) else query


class _Values(TypeDecorator[list[Any]]):
    """A list of values bound as one parameter: an array of `item` on PostgreSQL, JSON text elsewhere."""

    impl = Text
    cache_ok = True

    def __init__(self, item: TypeEngine[Any]) -> None:
        super().__init__()
        self.item = item

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.ARRAY(self.item))
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: list[Any] | None, dialect: Dialect) -> Any:
        return value if dialect.name == "postgresql" or value is None else json.dumps(value)


class among(FunctionElement[bool]):  # lower case: used as an operator is
    """`column IN (values)` with the values as one parameter: `column = ANY(array)` on PostgreSQL,
    `column IN (SELECT value FROM json_each(...))` on SQLite. Where IN of a few hundred ids sends a
    few hundred parameters that the driver and the server parse every time (2-3 ms a query in the
    matcher's batches), this is one parameter and a statement parsed once."""

    type = Boolean()
    inherit_cache = True

    def __init__(self, column: Any, values: Iterable[Any]) -> None:
        super().__init__(column, bindparam(None, list(values), type_=_Values(column.type)))


@compiles(among)
def _among_sqlite(element: among, compiler: Any, **kw: Any) -> str:
    column, values = element.clauses.clauses
    return f"({compiler.process(column, **kw)} IN (SELECT value FROM json_each({compiler.process(values, **kw)})))"


@compiles(among, "postgresql")
def _among_postgres(element: among, compiler: Any, **kw: Any) -> str:
    column, values = element.clauses.clauses
    return f"({compiler.process(column, **kw)} = ANY ({compiler.process(values, **kw)}))"


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
