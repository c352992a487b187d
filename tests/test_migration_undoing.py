"""Migration 0008_undoing: an undo in hand before it (`done` with undo_requested_at) becomes `undoing`,
the asker moves to undo_requested_by; the downgrade gives the old shape back."""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command

from app.db.migrate import alembic_config, upgrade
from tests.conftest import PG_SERVER, _drop_database, _postgres_database
from tests.test_migration_identity import _insert


def _rows(conn) -> dict[int, tuple]:
    query = "SELECT id, status, decided_by, undo_requested_by FROM actions ORDER BY id"
    return {row[0]: tuple(row[1:]) for row in conn.execute(sa.text(query))}


def _actions(conn) -> None:
    """Rows as the code before 0008 wrote them: a repost, an undo in hand, an undo done."""
    _insert(conn, "accounts", id=1, platform="mock", handle="club", enabled=True, config={}, sources=[],
            status="active")
    _insert(conn, "seen_posts", id=1, platform="mock", post_id="p", author_id="a", author_handle="alice", data={})
    at = datetime.now(UTC)
    common = {"account_id": 1, "seen_post_id": 1, "author_id": "a", "author_handle": "alice", "kind": "repost"}
    _insert(conn, "actions", id=1, post_id="p1", status="done", decided_by="ann (token 1, admin)", **common)
    _insert(conn, "actions", id=2, post_id="p2", status="done", decided_by="mo (token 2, moderator)",
            undo_requested_at=at, **common)
    _insert(conn, "actions", id=3, post_id="p3", status="undone", decided_by="mo (token 2, moderator)",
            undo_requested_at=at, undone_at=at, **common)


def _check(url: str) -> None:
    upgrade(url, "0007_action_snapshots")
    engine = sa.create_engine(url.replace("+aiosqlite", ""))
    with engine.begin() as conn:
        _actions(conn)
    upgrade(url)
    with engine.connect() as conn:
        assert _rows(conn) == {1: ("done", "ann (token 1, admin)", None),
                               2: ("undoing", "mo (token 2, moderator)", "mo (token 2, moderator)"),
                               3: ("undone", "mo (token 2, moderator)", "mo (token 2, moderator)")}
    command.downgrade(alembic_config(url), "0007_action_snapshots")
    with engine.connect() as conn:
        statuses = dict(conn.execute(sa.text("SELECT id, status FROM actions ORDER BY id")).all())
        columns = {c["name"] for c in sa.inspect(conn).get_columns("actions")}
    engine.dispose()
    assert statuses == {1: "done", 2: "done", 3: "undone"} and "undo_requested_by" not in columns


def test_an_undo_in_hand_becomes_undoing_on_sqlite(tmp_path):
    _check(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")


def test_an_undo_in_hand_becomes_undoing_on_postgresql():
    name = _postgres_database()
    try:
        _check(f"{PG_SERVER.rsplit('/', 1)[0].replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}")
    finally:
        _drop_database(name)
