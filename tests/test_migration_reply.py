"""Migration 0018_reply: accounts get the reply settings (off, the default text); actions take the kind
`reply`, which the downgrade deletes (the older CHECK cannot hold it)."""

import pytest
import sqlalchemy as sa
from alembic import command

from app.db.migrate import alembic_config, upgrade
from tests.conftest import PG_SERVER, _drop_database, _postgres_database
from tests.test_migration_identity import _insert


def _check(url: str) -> None:
    upgrade(url, "0017_pds_blocks")
    engine = sa.create_engine(url.replace("+aiosqlite", ""))
    with engine.begin() as conn:
        _insert(conn, "accounts", id=1, platform="mock", handle="club", enabled=True, config={}, sources=[],
                status="active")
        _insert(conn, "seen_posts", id=1, platform="mock", post_id="p", author_id="a", author_handle="alice", data={})
    upgrade(url)
    common = {"account_id": 1, "seen_post_id": 1, "author_id": "a", "author_handle": "alice", "status": "done"}
    with engine.begin() as conn:
        settings = conn.execute(sa.text("SELECT stop_reply, stop_reply_text FROM accounts")).one()
        _insert(conn, "actions", id=1, post_id="p", kind="repost", **common)
        _insert(conn, "actions", id=2, post_id="p", kind="reply", **common)
    assert tuple(settings) == (False, "OK, I won't repost your posts any more.")
    command.downgrade(alembic_config(url), "0017_pds_blocks")
    with engine.connect() as conn:
        kinds = dict(conn.execute(sa.text("SELECT id, kind FROM actions")).all())
        columns = {c["name"] for c in sa.inspect(conn).get_columns("accounts")}
        with pytest.raises(sa.exc.IntegrityError):
            _insert(conn, "actions", id=3, post_id="q", kind="reply", **common)
    engine.dispose()
    assert kinds == {1: "repost"} and not {"stop_reply", "stop_reply_text"} & columns


def test_reply_settings_and_kind_on_sqlite(tmp_path):
    _check(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")


def test_reply_settings_and_kind_on_postgresql():
    name = _postgres_database()
    try:
        _check(f"{PG_SERVER.rsplit('/', 1)[0].replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}")
    finally:
        _drop_database(name)
