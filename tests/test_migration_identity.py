"""Migration 0004_identity keeps rows from before it working: their names become pending entries."""

from datetime import UTC, datetime

import sqlalchemy as sa

from app.db.migrate import upgrade
from tests.conftest import PG_SERVER, _drop_database, _postgres_database


def _sample(column: sa.Column):
    """A value of the column's type, for the columns a row must fill."""
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer):
        return 0
    if isinstance(kind, sa.DateTime):
        return datetime.now(UTC)
    if isinstance(kind, sa.JSON):
        return {}
    return ""


def _insert(conn, table: str, **given) -> None:
    """One row of `table` as the schema stands: `given`, and a plain value for every other required column."""
    reflected = sa.Table(table, sa.MetaData(), autoload_with=conn)
    values = {c.name: _sample(c) for c in reflected.columns
              if not c.nullable and c.server_default is None and not (c.primary_key and c.name == "id")}
    conn.execute(reflected.insert().values({**values, **given}))


def _check(url: str) -> None:
    upgrade(url, "0003")
    engine = sa.create_engine(url.replace("+aiosqlite", ""))
    with engine.begin() as conn:
        _insert(conn, "accounts", id=1, platform="mock", handle="club", enabled=True, config={}, sources=[],
                status="active")  # as the app wrote it (0006 holds status to a closed set)
        _insert(conn, "blocks", account_id=1, author="bob", reason="spam")
        _insert(conn, "author_lists", account_id=1, kind="optout", author="carol")
        _insert(conn, "rules", account_id=1, name="r", query="from:bob", normalized="from:bob", scope="anyone",
                action="repost")
        _insert(conn, "rules", account_id=1, name="t", query="#tea", normalized="#tea", scope="anyone",
                action="repost")
    upgrade(url)
    with engine.connect() as conn:
        block = conn.execute(sa.text("SELECT author, handle, pending FROM blocks")).one()
        entry = conn.execute(sa.text("SELECT author, handle, pending FROM author_lists")).one()
        rules = dict(conn.execute(sa.text("SELECT name, authors_pending FROM rules")).all())
    engine.dispose()
    assert tuple(block) == ("bob", "bob", True) and tuple(entry) == ("carol", "carol", True)
    assert rules == {"r": True, "t": False}


def test_old_rows_become_pending_on_sqlite(tmp_path):
    _check(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")


def test_old_rows_become_pending_on_postgresql():
    name = _postgres_database()
    try:
        _check(f"{PG_SERVER.rsplit('/', 1)[0].replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}")
    finally:
        _drop_database(name)
