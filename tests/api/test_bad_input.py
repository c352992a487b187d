"""Bad input gets a clear 4xx JSON error and changes nothing."""

import json

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
    body = {"platform": "mock", "handle": "h", "password": "p"}
    response = await client.post(f"{API}/accounts", json=body, headers=admin)
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
    limits = {"quiet_hours_start": "25:00", "quiet_hours_end": "07:00"}
    response = await client.patch(f"{API}/accounts/{account['id']}", json={"limits": limits}, headers=admin)
    assert response.status_code == 422


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}])
async def test_missing_or_wrong_token(client, admin, account, headers):
    before = await _counts(client, admin, account["id"])
    response = await client.post(f"{API}/accounts/{account['id']}/rules", json={"name": "x", "query": "tea"},
                                 headers=headers)
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
    response = await client.patch(f"{API}/accounts/{taken['id']}", json={"credentials": {"token": "other"}},
                                  headers=admin)
    assert response.status_code == 422
    assert response.json()["error"] == "credentials rejected"


async def test_ingest_rejects_posts_of_another_platform(client, admin):
    post = {"platform": "x", "id": "1", "author": {"id": "1", "handle": "a"}, "text": "hi"}
    response = await client.post(f"{API}/ingest", json={"platform": "mock", "posts": [post]}, headers=admin)
    assert response.status_code == 422


async def test_validate_endpoint(client, admin):
    query = '(espresso OR "latte art") lang:en'
    ok = (await client.post(f"{API}/rules/validate", json={"query": query}, headers=admin)).json()
    assert ok["valid"] is True and ok["normalized"] and ok["error"] is None
    bad = (await client.post(f"{API}/rules/validate", json={"query": "espresso lang:"}, headers=admin)).json()
    assert bad["valid"] is False and bad["error"]["position"] >= 9
    body = {"query": "", "scope": "followers"}
    scoped = (await client.post(f"{API}/rules/validate", json=body, headers=admin)).json()
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


# --- issue 9 §7: ids beyond the columns' range, NUL and lone surrogates, never a 500 ---------------

BEYOND = [2**31, 2**63 - 1]


def _id_operations():
    """(method, path, id parameter) for every operation with an id in its path, from the OpenAPI."""
    from app.main import create_app

    found = []
    for path, operations in create_app().openapi()["paths"].items():
        for method, operation in operations.items():
            for param in operation.get("parameters", []):
                if param["in"] == "path" and param["name"].endswith("_id"):
                    found.append((method.upper(), path, param["name"]))
    return found


def _fill(path: str, **values) -> str:
    values = {"author": "someone", "kind": "optout", **values}
    for name, value in values.items():
        path = path.replace("{" + name + "}", str(value))
    return path


@pytest.mark.parametrize("big", BEYOND)
@pytest.mark.parametrize(("method", "path", "name"), _id_operations())
async def test_path_ids_beyond_the_columns_range_are_a_422_naming_the_bound(client, admin, account, method, path, name,
                                                                            big):
    response = await client.request(method, _fill(path, **{name: big}), headers=admin,
                                    json={} if method in ("POST", "PUT", "PATCH") else None)
    assert response.status_code == 422, response.text
    problems = response.json()["detail"]
    assert any(p["loc"] == ["path", name] and "2147483647" in p["msg"] for p in problems), problems


@pytest.mark.parametrize("big", BEYOND)
async def test_ids_and_counts_beyond_the_columns_range_in_query_and_body_are_a_422(client, admin, account, big):
    aid = account["id"]
    cases = [
        ("GET", f"{API}/audit?account_id={big}", None, ["query", "account_id"]),
        ("POST", f"{API}/tokens", {"name": "t", "role": "moderator", "account_ids": [big]}, ["body", "account_ids", 0]),
        ("POST", f"{API}/accounts/{aid}/preview", {"rule_id": big, "posts": []}, ["body", "rule_id"]),
        ("POST", f"{API}/accounts/{aid}/rules", {"name": "n", "query": "tea", "priority": big}, ["body", "priority"]),
        ("PATCH", f"{API}/accounts/{aid}", {"limits": {"max_per_hour": big}}, ["body", "limits", "max_per_hour"]),
        ("PUT", f"{API}/accounts/{aid}/filters", {"min_followers": big}, ["body", "min_followers"]),
    ]
    for method, url, body, loc in cases:
        response = await client.request(method, url, json=body, headers=admin)
        assert response.status_code == 422, (url, response.text)
        assert any(p["loc"] == loc for p in response.json()["detail"]), (url, response.text)


BAD_TEXT = {"nul": "bad\x00text", "surrogate": "bad\ud800text", "low surrogate": "\udfffbad"}


def _string_fields(aid: int, rid: int, bad: str):
    """(method, url, body, loc) for each string a caller can send; `bad` in one place each."""
    post = {"platform": "mock", "id": "p1", "author": {"id": "1", "handle": "a"}, "text": "hi"}
    return [
        ("POST", f"{API}/accounts/{aid}/rules", {"name": bad, "query": "tea"}, ["body", "name"]),
        ("POST", f"{API}/accounts/{aid}/rules", {"name": "n", "query": bad}, ["body", "query"]),
        ("PATCH", f"{API}/rules/{rid}", {"query": bad}, ["body", "query"]),
        ("PATCH", f"{API}/rules/{rid}", {"scope": bad}, ["body", "scope"]),
        ("POST", f"{API}/accounts/{aid}/blocks", {"author": bad}, ["body", "author"]),
        ("POST", f"{API}/accounts/{aid}/blocks", {"author": "x", "reason": bad}, ["body", "reason"]),
        ("POST", f"{API}/blocks", {"author": bad}, ["body", "author"]),
        ("POST", f"{API}/accounts/{aid}/authors/optout", {"author": bad}, ["body", "author"]),
        ("PUT", f"{API}/accounts/{aid}/filters", {"banned_words": ["ok", bad]}, ["body", "banned_words", 1]),
        ("POST", f"{API}/tokens", {"name": bad, "role": "admin"}, ["body", "name"]),
        ("POST", f"{API}/accounts", {"platform": "mock", "handle": bad, "credentials": {"token": "t"}},
         ["body", "handle"]),
        ("PATCH", f"{API}/accounts/{aid}", {"display_name": bad}, ["body", "display_name"]),
        ("PATCH", f"{API}/accounts/{aid}", {"config": {"k": bad}}, ["body", "config", "k"]),
        ("PATCH", f"{API}/accounts/{aid}", {"config": {bad: 1}}, ["body", "config", bad]),
        ("PATCH", f"{API}/accounts/{aid}", {"sources": [bad]}, ["body", "sources", 0]),
        ("PATCH", f"{API}/accounts/{aid}", {"limits": {"timezone": bad}}, ["body", "limits", "timezone"]),
        ("POST", f"{API}/ingest", {"platform": "mock", "posts": [{**post, "text": bad}]}, ["body", "posts", 0, "text"]),
        ("POST", f"{API}/rules/validate", {"query": bad}, ["body", "query"]),
        ("POST", f"{API}/rules/explain", {"query": "tea", "post": {**post, "id": bad}}, ["body", "post", "id"]),
        ("GET", f"{API}/audit", {"action": bad}, ["query", "action"]),
    ]


def _shown(part):
    """How an error quotes a field name: a lone surrogate as U+FFFD (it cannot be encoded)."""
    return part.encode("utf-16", "surrogatepass").decode("utf-16", "replace") if isinstance(part, str) else part


@pytest.mark.parametrize("kind", BAD_TEXT)
async def test_unstorable_text_anywhere_is_a_json_422_and_changes_nothing(client, admin, account, kind):
    rule = (await client.get(f"{API}/accounts/{account['id']}/rules", headers=admin)).json()["items"][0]
    before = await _counts(client, admin, account["id"])
    for method, url, body, loc in _string_fields(account["id"], rule["id"], BAD_TEXT[kind]):
        if method == "GET":
            if "\x00" not in BAD_TEXT[kind]:
                continue  # a URL carries UTF-8 only: a surrogate cannot reach the query string
            response = await client.get(url, params=body, headers=admin)
        else:  # json.dumps escapes the surrogate as \ud800, as a client's JSON would
            response = await client.request(method, url, content=json.dumps(body).encode(),
                                            headers={**admin, "Content-Type": "application/json"})
        assert response.status_code == 422, (url, body, response.text)
        error = response.json()
        assert error["error"] == "invalid request"
        assert [p["loc"] for p in error["detail"]] == [[_shown(part) for part in loc]], (url, error)
        assert "NUL" in error["detail"][0]["msg"] or "surrogate" in error["detail"][0]["msg"]
    assert await _counts(client, admin, account["id"]) == before
    listed = (await client.get(f"{API}/accounts/{account['id']}", headers=admin)).json()
    assert BAD_TEXT[kind] not in json.dumps(listed)


@pytest.mark.parametrize("path", ["/accounts/{aid}/blocks/a%00b", "/blocks/a%00b",
                                  "/accounts/{aid}/authors/optout/a%00b", "/accounts/{aid}/authors/consent/%00"])
async def test_nul_in_a_path_segment_is_a_json_404(client, admin, account, path):
    response = await client.delete(API + path.replace("{aid}", str(account["id"])), headers=admin)
    assert response.status_code == 404, response.text
    assert response.json()["error"] == "not found" and "NUL" in response.json()["detail"]


def _declared_error_schema(doc: dict, path: str, method: str, status: int) -> dict:
    """The schema the OpenAPI document declares for `status` of an operation (exact code, then NXX)."""
    responses = doc["paths"][path][method]["responses"]
    declared = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX")
    assert declared, f"{method} {path} does not declare {status}"
    return declared["content"]["application/json"]["schema"]


async def test_error_bodies_match_what_the_openapi_document_declares(client, admin, account):
    from openapi_schema_validator import OAS31Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    doc = (await client.get("/openapi.json")).json()
    registry = Registry().with_resource("urn:api", Resource(doc, DRAFT202012))
    rule = (await client.get(f"{API}/accounts/{account['id']}/rules", headers=admin)).json()["items"][0]
    aid = account["id"]
    cases = [  # (method, template, url, body, headers): one of each detail shape
        ("get", "/api/v1/accounts/{account_id}", f"{API}/accounts/9999", None, admin),  # 404, a sentence
        ("get", "/api/v1/accounts", f"{API}/accounts", None, {}),  # 401
        # 422 problems
        ("post", "/api/v1/accounts/{account_id}/rules", f"{API}/accounts/{aid}/rules", {"name": 5}, admin),
        ("patch", "/api/v1/rules/{rule_id}", f"{API}/rules/{rule['id']}", {"query": "(tea"}, admin),  # 422 query fault
        # faults
        ("patch", "/api/v1/accounts/{account_id}", f"{API}/accounts/{aid}", {"config": {"page_size": 0}}, admin),
        ("post", "/api/v1/accounts/{account_id}/rules", f"{API}/accounts/{aid}/rules", {"name": "n\x00"}, admin),
        ("get", "/api/v1/accounts/{account_id}", f"{API}/accounts/{2**31}", None, admin),
    ]
    for method, template, url, body, headers in cases:
        response = await client.request(method, url, json=body, headers=headers)
        assert 400 <= response.status_code < 500, (url, response.text)
        schema = _declared_error_schema(doc, template, method, response.status_code)
        validator = OAS31Validator({"$ref": "urn:api" + schema["$ref"]}, registry=registry)
        errors = [e.message for e in validator.iter_errors(response.json())]
        assert errors == [], (url, response.json(), errors)


async def test_every_operation_declares_the_error_model_not_fastapis_array(client):
    doc = (await client.get("/openapi.json")).json()
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            for code in ("4XX", "5XX"):
                schema = operation["responses"][code]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, code)


async def test_values_too_long_for_their_columns_are_a_422(client, admin, account):
    aid = account["id"]
    post = {"platform": "mock", "id": "p" * 256, "author": {"id": "1", "handle": "a"}, "text": "hi"}
    cases = [
        ("POST", f"{API}/ingest", {"platform": "mock", "posts": [post]}),
        ("POST", f"{API}/ingest",
         {"platform": "mock", "posts": [{**post, "id": "1", "author": {"id": "1", "handle": "h" * 256}}]}),
        ("PATCH", f"{API}/accounts/{aid}", {"limits": {"timezone": "Europe/" + "x" * 300}}),
        ("PATCH", f"{API}/accounts/{aid}", {"sources": ["s" * 513]}),
    ]
    for method, url, body in cases:
        response = await client.request(method, url, json=body, headers=admin)
        assert response.status_code == 422, (url, response.text)
        assert response.json()["error"] == "invalid request"


async def test_an_unexpected_error_is_still_a_json_500(runtime, admin):
    """The last resort (a bug): the declared ErrorBody, not Starlette's plain text."""
    import httpx

    from app.main import create_app

    app = create_app(runtime=runtime)

    @app.get("/api/v1/boom")
    async def boom():
        raise RuntimeError("a bug")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/api/v1/boom")
    assert response.status_code == 500
    assert response.json() == {"error": "internal error", "detail": "an unexpected error; the server logged it"}


async def test_deeply_nested_bodies_are_a_4xx(client, admin, account):
    """Deep NUL: found by the check's loop (it does not recurse: on Python 3.12+ the JSON parser
    nests deeper than Python frames may). Deeper than the parser takes: FastAPI's JSON 400."""
    url, headers = f"{API}/accounts/{account['id']}", {**admin, "Content-Type": "application/json"}
    for depth, status in ((900, 422), (5000, 400)):
        body = '{"config": {"k": ' + "[" * depth + '"deep\\u0000"' + "]" * depth + "}}"
        response = await client.patch(url, content=body.encode(), headers=headers)
        assert response.status_code == status, response.text[:300]
        if status == 422:
            assert response.json()["detail"][0]["loc"] == ["body", "config", "k", *[0] * depth]
        else:
            assert response.json()["error"] == "bad request"
