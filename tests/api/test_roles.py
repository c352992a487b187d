"""Every endpoint checks the caller's role and reach: wrong role 403, another account's data 404."""

import pytest

from app.auth.caller import Role
from tests.api.helpers import API, actions, ingest, make_account, make_rule, world
from tests.conftest import make_token


@pytest.fixture
async def setup(client, admin, runtime, pipeline):
    mine = await make_account(client, admin, handle="mine")
    theirs = await make_account(client, admin, handle="theirs")
    rules = {}
    for acc in (mine, theirs):
        rules[acc["id"]] = await make_rule(client, admin, acc["id"], "#coffee", review=True)
    world().add_author("alice", followers_count=10)
    for name in ("spammer", "shy", "a"):  # the people the calls below name (an unknown name is a 422)
        world().add_author(name)
    await ingest(client, admin, [world().publish("alice", "hi #coffee")])
    await pipeline.tick(poll=False)
    acts = {acc["id"]: (await actions(client, admin, acc["id"]))[0] for acc in (mine, theirs)}
    tokens = {
        "organizer": await make_token(runtime, Role.organizer, [mine["id"]]),
        "moderator": await make_token(runtime, Role.moderator, [mine["id"]]),
    }
    return {"mine": mine["id"], "theirs": theirs["id"], "rules": rules, "actions": acts, "tokens": tokens}


def account_endpoints(account_id: int, rule_id: int, action_id: int):
    """(method, path, body, capability) for every account-scoped endpoint."""
    return [
        ("GET", f"/accounts/{account_id}", None, "read"),
        ("GET", f"/accounts/{account_id}/health", None, "read"),
        ("GET", f"/accounts/{account_id}/sources", None, "read"),
        ("PATCH", f"/accounts/{account_id}", {"sources": ["public"]}, "configure"),
        ("GET", f"/accounts/{account_id}/rules", None, "read"),
        ("POST", f"/accounts/{account_id}/rules", {"name": "n", "query": "tea"}, "configure"),
        ("GET", f"/rules/{rule_id}", None, "read"),
        ("PATCH", f"/rules/{rule_id}", {"name": "renamed"}, "configure"),
        ("DELETE", f"/rules/{rule_id}", None, "configure"),
        ("GET", f"/accounts/{account_id}/filters", None, "read"),
        ("PUT", f"/accounts/{account_id}/filters", {"languages": ["en"]}, "configure"),
        ("GET", f"/accounts/{account_id}/blocks", None, "read"),
        ("POST", f"/accounts/{account_id}/blocks", {"author": "spammer"}, "moderate"),
        ("DELETE", f"/accounts/{account_id}/blocks/spammer", None, "moderate"),
        ("GET", f"/accounts/{account_id}/authors/optout", None, "read"),
        ("POST", f"/accounts/{account_id}/authors/optout", {"author": "shy"}, "moderate"),
        ("GET", f"/accounts/{account_id}/actions", None, "read"),
        ("GET", f"/actions/{action_id}", None, "read"),
        ("POST", f"/actions/{action_id}/reject", None, "moderate"),
        ("POST", f"/accounts/{account_id}/preview", {"query": "#coffee"}, "read"),
        ("DELETE", f"/accounts/{account_id}", None, "admin"),
    ]


ADMIN_ONLY = [("POST", "/accounts", {"platform": "mock", "handle": "x", "credentials": {"token": "t"}}),
              ("POST", "/tokens", {"name": "t", "role": "admin"}), ("GET", "/tokens", None),
              ("DELETE", "/tokens/1", None), ("POST", "/blocks", {"author": "a"}), ("GET", "/blocks", None),
              ("DELETE", "/blocks/a", None), ("POST", "/ingest", {"platform": "mock", "posts": []})]
GRANTS = {"organizer": {"read", "configure", "moderate"}, "moderator": {"read", "moderate"}}


@pytest.mark.parametrize("role", ["organizer", "moderator"])
async def test_another_accounts_data_is_a_404_and_leaks_nothing(client, setup, role):
    theirs = setup["theirs"]
    endpoints = account_endpoints(theirs, setup["rules"][theirs]["id"], setup["actions"][theirs]["id"])
    for method, path, body, _ in endpoints:
        response = await client.request(method, API + path, json=body, headers=setup["tokens"][role])
        assert response.status_code == 404, (method, path, response.text)
        assert "theirs" not in response.text and "#coffee" not in response.text
    listed = (await client.get(f"{API}/accounts", headers=setup["tokens"][role])).json()
    assert [a["handle"] for a in listed["items"]] == ["mine"]
    audit = (await client.get(f"{API}/audit", headers=setup["tokens"][role])).json()
    assert all(e["account_id"] == setup["mine"] for e in audit["items"])
    audit_theirs = await client.get(f"{API}/audit", params={"account_id": theirs}, headers=setup["tokens"][role])
    assert audit_theirs.status_code == 404


@pytest.mark.parametrize("role", ["organizer", "moderator"])
async def test_own_account_each_role_gets_exactly_its_capabilities(client, setup, role):
    mine = setup["mine"]
    for method, path, body, need in account_endpoints(mine, setup["rules"][mine]["id"], setup["actions"][mine]["id"]):
        if method == "DELETE" and path.startswith("/rules"):
            continue  # checked last, below, so the other calls still find the rule
        response = await client.request(method, API + path, json=body, headers=setup["tokens"][role])
        allowed = need in GRANTS[role]
        assert (response.status_code < 400) == allowed, (role, method, path, response.status_code, response.text)
        if not allowed:
            assert response.status_code == 403 and response.json()["error"] == "forbidden"
    delete = await client.delete(f"{API}/rules/{setup['rules'][mine]['id']}", headers=setup["tokens"][role])
    assert delete.status_code == (204 if role == "organizer" else 403)


@pytest.mark.parametrize("role", ["organizer", "moderator"])
async def test_admin_only_endpoints(client, setup, role):
    for method, path, body in ADMIN_ONLY:
        response = await client.request(method, API + path, json=body, headers=setup["tokens"][role])
        assert response.status_code == 403, (method, path, response.text)


async def test_moderator_journey_block_undo_and_audit(client, admin, setup, pipeline):
    moderator, mine = setup["tokens"]["moderator"], setup["mine"]
    action_id = setup["actions"][mine]["id"]
    assert (await client.post(f"{API}/actions/{action_id}/approve", headers=moderator)).status_code == 200
    await pipeline.tick(poll=False)
    assert (await client.post(f"{API}/actions/{action_id}/undo", headers=moderator)).status_code == 202
    blocked = await client.post(f"{API}/accounts/{mine}/blocks", json={"author": "alice", "reason": "spam"},
                                headers=moderator)
    assert blocked.status_code == 201
    await pipeline.tick(poll=False)
    events = (await client.get(f"{API}/audit", params={"account_id": mine}, headers=admin)).json()["items"]
    mine_events = [(e["action"], e["actor"]) for e in events if "moderator" in e["actor"]]
    assert {a for a, _ in mine_events} >= {"action.approve", "action.undo", "block.create"}
    assert all(e["at"] for e in events)
