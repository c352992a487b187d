"""The closed sets outside actions (account status, a rule's action, author list kinds, stream
phases, token roles) are enums in app/models and CHECK constraints in the database (migration
0006): a value outside the set is refused by the database itself, on SQLite and PostgreSQL."""

from typing import get_args

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.models import ListKind
from app.moderation.schemas import ListKind as ListKindParameter
from tests.api.helpers import API, make_account, make_rule, world


def test_the_api_takes_the_author_list_kinds_the_database_holds():
    assert set(get_args(ListKindParameter)) == {kind.value for kind in ListKind}


async def _rows(client, admin) -> dict[str, int]:
    """One row of each table with a closed set, made through the API (a stream state by hand)."""
    account = await make_account(client, admin)
    world().add_author("carol", followers_count=1)
    rule = await make_rule(client, admin, account["id"], "coffee")
    listed = await client.post(f"{API}/accounts/{account['id']}/authors/optout", json={"author": "carol"},
                               headers=admin)
    assert listed.status_code == 201, listed.text
    tokens = (await client.get(f"{API}/tokens", headers=admin)).json()["items"]
    return {"accounts": account["id"], "rules": rule["id"], "author_lists": listed.json()["id"],
            "stream_states": account["id"], "api_tokens": tokens[0]["id"]}


CASES = [("accounts", "status", "broken"), ("rules", "action", "retweet"), ("rules", "action", "reply"),
         ("author_lists", "kind", "allow"),
         ("stream_states", "state", "asleep"), ("api_tokens", "role", "owner")]


@pytest.mark.parametrize(("table", "column", "value"), CASES, ids=[c[0] for c in CASES])
async def test_the_database_refuses_a_value_outside_the_set(runtime, client, admin, table, column, value):
    ids = await _rows(client, admin)
    async with runtime.engine.begin() as conn:
        await conn.execute(text("INSERT INTO stream_states (account_id, state, since, updated_at, failures) "
                                "VALUES (:id, 'connected', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 0)"),
                           {"id": ids["stream_states"]})
    key = "account_id" if table == "stream_states" else "id"
    async with runtime.engine.connect() as conn:
        with pytest.raises(IntegrityError) as raised:
            await conn.execute(text(f"UPDATE {table} SET {column} = :value WHERE {key} = :id"),
                               {"value": value, "id": ids[table]})
        await conn.rollback()
    assert f"ck_{table}_{column}" in str(raised.value)
