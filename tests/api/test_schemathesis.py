"""The whole OpenAPI document, fuzzed by schemathesis in-process (issue 9 §7): with an admin token,
on SQLite and PostgreSQL, no answer is a server error and every answer fits what the document
declares (status, content type, headers, body). Bounded: a fixed seed and a few examples per
operation, so it runs in about a minute on a small machine."""

from __future__ import annotations

import asyncio
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import get_client
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.main import create_app
from app.platforms.mock.world import reset_world
from app.runtime import Runtime
from tests.conftest import _wipe, make_settings, make_token

# A deeper run: REPOSTER_FUZZ_EXAMPLES=200 pytest tests/api/test_schemathesis.py
EXAMPLES = int(os.environ.get("REPOSTER_FUZZ_EXAMPLES", "8"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]

schema = schemathesis.openapi.from_dict(create_app(make_settings("sqlite+aiosqlite://")).openapi())


@pytest.fixture(scope="module")
def api(db_url):
    """The app on the test database, driven through schemathesis' own ASGI client, and an admin token."""
    async def prepare() -> dict[str, str]:
        runtime = Runtime.build(make_settings(db_url))
        try:
            await _wipe(runtime)
            return await make_token(runtime)
        finally:
            await runtime.close()

    headers = asyncio.run(prepare())
    with get_client(create_app(make_settings(db_url))) as client:
        _seed(client, headers)
        yield client, headers


def _seed(client, headers) -> None:
    """Something for small ids to name: an account with a rule, a block and an opt-out, and a post."""
    world = reset_world("default")  # the people blocked and opted out exist on the mock platform
    world.add_author("troll")
    world.add_author("shy")
    account = client.post("/api/v1/accounts", headers=headers, json={
        "platform": "mock", "handle": "seed", "credentials": {"token": "tok-seed"}}).json()
    base = f"/api/v1/accounts/{account['id']}"
    client.post(f"{base}/rules", headers=headers, json={"name": "seed", "query": "coffee"}).raise_for_status()
    client.post(f"{base}/blocks", headers=headers, json={"author": "troll"}).raise_for_status()
    client.post(f"{base}/authors/optout", headers=headers, json={"author": "shy"}).raise_for_status()
    post = {"platform": "mock", "id": "1", "author": {"id": "7", "handle": "barista"}, "text": "coffee time"}
    client.post("/api/v1/ingest", headers=headers, json={"platform": "mock", "posts": [post]}).raise_for_status()


@schema.parametrize()
@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented_and_never_a_server_error(case, api):
    client, headers = api
    case.call_and_validate(session=client, headers=headers, checks=CHECKS)
