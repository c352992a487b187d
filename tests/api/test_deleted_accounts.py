"""A deleted account's id stays dead: no token reaches the account created after it (issue 9 §7)."""

import sqlite3

from sqlalchemy import create_engine, text

from app.db.migrate import upgrade
from tests.api.helpers import API, make_account


async def test_a_deleted_accounts_token_never_reaches_the_next_account(client, admin):
    await make_account(client, admin, handle="first")
    gone = await make_account(client, admin, handle="gone")
    made = await client.post(f"{API}/tokens", json={"name": "mod", "role": "moderator", "account_ids": [gone["id"]]},
                             headers=admin)
    token = made.json()
    moderator = {"Authorization": f"Bearer {token['token']}"}
    assert (await client.delete(f"{API}/accounts/{gone['id']}", headers=admin)).status_code == 204

    listed = {t["id"]: t for t in (await client.get(f"{API}/tokens", headers=admin)).json()["items"]}
    assert listed[token["id"]]["account_ids"] == []
    events = (await client.get(f"{API}/audit", params={"action": "token.update"}, headers=admin)).json()["items"]
    assert [(e["target_id"], e["detail"]["removed"]) for e in events] == [(str(token["id"]), [gone["id"]])]

    following = await make_account(client, admin, handle="following")
    assert following["id"] > gone["id"]
    assert (await client.get(f"{API}/accounts/{following['id']}", headers=moderator)).status_code == 404
    assert (await client.get(f"{API}/accounts", headers=moderator)).json()["items"] == []


def test_the_migration_makes_sqlite_ids_never_reused_and_cleans_token_lists(tmp_path):
    """Built at 0003 with the old behaviour (a reused id), then upgraded: the token forgets it."""
    path = tmp_path / "old.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url, "0003")
    with create_engine(f"sqlite:///{path}").begin() as conn:
        insert = text("INSERT INTO accounts (id, platform, handle, credentials_encrypted, config, sources, enabled,"
                      " status, conditions, min_interval_seconds, timezone, created_at, updated_at)"
                      " VALUES (:id, 'mock', :h, '', '{}', '[]', 1, 'active', '{}', 0, 'UTC', :at, :at)")
        conn.execute(insert, {"id": 1, "h": "kept", "at": "2026-01-01 00:00:00"})
        conn.execute(insert, {"id": 2, "h": "reused", "at": "2026-03-01 00:00:00"})  # id 2 deleted, then given again
        conn.execute(text("INSERT INTO api_tokens (id, name, role, token_hash, prefix, account_ids, created_at)"
                          " VALUES (1, 'mod', 'moderator', 'h', 'p', '[1, 2, 3]', '2026-02-01 00:00:00')"))
    upgrade(url)
    db = sqlite3.connect(path)
    assert db.execute("SELECT account_ids FROM api_tokens").fetchone()[0].replace(" ", "") == "[1]"
    assert "AUTOINCREMENT" in db.execute("SELECT sql FROM sqlite_master WHERE name = 'accounts'").fetchone()[0]
    assert [r[0] for r in db.execute("SELECT handle FROM accounts ORDER BY id")] == ["kept", "reused"]
    db.execute("DELETE FROM accounts WHERE id = 2")
    db.execute("INSERT INTO accounts (platform, handle, credentials_encrypted, config, sources, enabled, status,"
               " conditions, min_interval_seconds, timezone, created_at, updated_at) VALUES ('mock', 'next', '', '{}',"
               " '[]', 1, 'active', '{}', 0, 'UTC', '2026-04-01', '2026-04-01')")
    assert db.execute("SELECT id FROM accounts WHERE handle = 'next'").fetchone()[0] == 3
