"""Bad input gets a clear 4xx JSON error and changes nothing."""

import pytest

from tests.api.helpers import API, make_account, make_rule


async def _counts(client, headers, account_id):
    rules = (await client.get(f"{API}/accounts/{account_id}/rules", headers=headers)).json()["total"]
    accounts = (await client.get(f"{API}/accounts", headers=headers)).json()["total"]
    return rules, accounts


@pytest.fixture
async def account(client, admin):
    account = await make_account(client, admin)
    await make_rule(client, admin, account["id"], "#coffee")
    return account


async def test_malformed_json(client, admin, account):
    before = await _counts(client, admin, account["id"])
    response = await client.post(f"{API}/accounts/{account['id']}/rules", content=b'{"name": "x", "query": ',
                                 headers={**admin, "Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"] == "invalid request" and response.json()["detail"]
    assert await _counts(client, admin, account["id"]) == before


async def test_unknown_fields_are_refused(client, admin, account):
    before = await _counts(client, admin, account["id"])
    response = await client.post(f"{API}/accounts/{account['id']}/rules",
                                 json={"name": "x", "query": "tea", "retweet_everything": True}, headers=admin)
    assert response.status_code == 422
    assert "retweet_everything" in str(response.json()["detail"])
    response = await client.post(f"{API}/accounts", json={"platform": "mock", "handle": "h", "password": "p"}, headers=admin)
    assert response.status_code == 422
    assert await _counts(client, admin, account["id"]) == before


async def test_rule_for_a_missing_account(client, admin, account):
    response = await client.post(f"{API}/accounts/9999/rules", json={"name": "x", "query": "tea"}, headers=admin)
    assert response.status_code == 404
    assert response.json() == {"error": "not found", "detail": "account 9999 not found"}


async def test_unparsable_query_is_a_422_with_the_position(client, admin, account):
    before = await _counts(client, admin, account["id"])
    response = await client.post(f"{API}/accounts/{account['id']}/rules",
                                 json={"name": "x", "query": "espresso OR (latte"}, headers=admin)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid query"
    assert body["detail"]["message"] and isinstance(body["detail"]["position"], int)
    assert await _counts(client, admin, account["id"]) == before


async def test_bad_query_on_update_changes_nothing(client, admin, account):
    rule = (await client.get(f"{API}/accounts/{account['id']}/rules", headers=admin)).json()["items"][0]
    response = await client.patch(f"{API}/rules/{rule['id']}", json={"query": "-tea"}, headers=admin)
    assert response.status_code == 422
    assert (await client.get(f"{API}/rules/{rule['id']}", headers=admin)).json()["query"] == "#coffee"


async def test_bad_scope_and_bad_limits(client, admin, account):
    response = await client.post(f"{API}/accounts/{account['id']}/rules",
                                 json={"name": "x", "query": "tea", "scope": "friends"}, headers=admin)
    assert response.status_code == 422 and response.json()["error"] == "invalid scope"
    response = await client.patch(f"{API}/accounts/{account['id']}",
                                  json={"limits": {"quiet_hours_start": "25:00", "quiet_hours_end": "07:00"}}, headers=admin)
    assert response.status_code == 422


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}])
async def test_missing_or_wrong_token(client, admin, account, headers):
    before = await _counts(client, admin, account["id"])
    response = await client.post(f"{API}/accounts/{account['id']}/rules", json={"name": "x", "query": "tea"}, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"
    assert (await client.get(f"{API}/accounts", headers=headers)).status_code == 401
    assert await _counts(client, admin, account["id"]) == before


async def test_revoked_token_stops_working(client, admin, runtime):
    created = (await client.post(f"{API}/tokens", json={"name": "ops", "role": "admin"}, headers=admin)).json()
    other = {"Authorization": f"Bearer {created['token']}"}
    assert (await client.get(f"{API}/accounts", headers=other)).status_code == 200
    assert (await client.delete(f"{API}/tokens/{created['id']}", headers=admin)).status_code == 204
    assert (await client.get(f"{API}/accounts", headers=other)).status_code == 401
    listed = (await client.get(f"{API}/tokens", headers=admin)).json()
    assert created["token"] not in str(listed)


async def test_wrong_mock_credentials_are_a_clear_422(client, admin):
    taken = await make_account(client, admin, handle="taken")
    response = await client.patch(f"{API}/accounts/{taken['id']}", json={"credentials": {"token": "other"}}, headers=admin)
    assert response.status_code == 422
    assert response.json()["error"] == "credentials rejected"


async def test_ingest_rejects_posts_of_another_platform(client, admin):
    post = {"platform": "x", "id": "1", "author": {"id": "1", "handle": "a"}, "text": "hi"}
    response = await client.post(f"{API}/ingest", json={"platform": "mock", "posts": [post]}, headers=admin)
    assert response.status_code == 422


async def test_validate_endpoint(client, admin):
    ok = (await client.post(f"{API}/rules/validate", json={"query": "(espresso OR \"latte art\") lang:en"}, headers=admin)).json()
    assert ok["valid"] is True and ok["normalized"] and ok["error"] is None
    bad = (await client.post(f"{API}/rules/validate", json={"query": "espresso lang:"}, headers=admin)).json()
    assert bad["valid"] is False and bad["error"]["position"] >= 9
    scoped = (await client.post(f"{API}/rules/validate", json={"query": "", "scope": "followers"}, headers=admin)).json()
    assert scoped["valid"] is True
    unscoped = (await client.post(f"{API}/rules/validate", json={"query": ""}, headers=admin)).json()
    assert unscoped["valid"] is False


async def test_null_for_a_field_that_cannot_be_empty_is_a_422(client, admin, account):
    for body in ({"enabled": None}, {"config": None}, {"sources": None}):
        response = await client.patch(f"{API}/accounts/{account['id']}", json=body, headers=admin)
        assert response.status_code == 422 and "cannot be null" in str(response.json()["detail"])
    rule = (await client.get(f"{API}/accounts/{account['id']}/rules", headers=admin)).json()["items"][0]
    response = await client.patch(f"{API}/rules/{rule['id']}", json={"query": None, "review": None}, headers=admin)
    assert response.status_code == 422
    cleared = await client.patch(f"{API}/accounts/{account['id']}", json={"display_name": None}, headers=admin)
    assert cleared.status_code == 200


@pytest.mark.parametrize("path", ["/accounts/99999999999999999999999", "/rules/18446744073709551616",
                                  "/actions/9223372036854775808/undo", "/accounts?offset=99999999999999999999999"])
async def test_ids_beyond_64_bits_are_a_422_not_a_500(client, admin, path):
    method = "POST" if path.endswith("undo") else "GET"
    response = await client.request(method, API + path, headers=admin)
    assert response.status_code == 422 and response.json()["error"] == "invalid request"
