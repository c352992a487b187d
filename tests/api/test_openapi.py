"""The OpenAPI document and /docs (issue 11): Swagger UI served from the package (no CDN), the bearer
scheme on every protected operation, the error statuses each operation can answer, described fields,
and examples that the API accepts. No database: neither the document nor /docs reads one."""

from __future__ import annotations

import re

import httpx
import pytest

from app.accounts.schemas import AccountCreate, Limits
from app.auth.schemas import TokenCreate
from app.filters.schemas import Filters
from app.ingest.endpoints import IngestRequest
from app.main import create_app
from app.moderation.schemas import AuthorEntry, BlockCreate, BlockListCreate
from app.rules import service as rules_service
from app.rules.schemas import PreviewRequest, RuleCreate, ValidateRequest
from tests.conftest import make_settings

API = "/api/v1"
# Operations every role may call on an account its token reaches (all roles read and moderate), so no 403.
OPEN_TO_EVERY_ROLE = {
    ("get", "/accounts"), ("get", "/accounts/{account_id}"), ("get", "/accounts/{account_id}/health"),
    ("get", "/accounts/{account_id}/sources"), ("get", "/accounts/{account_id}/rules"), ("get", "/rules/{rule_id}"),
    ("post", "/rules/validate"), ("post", "/rules/explain"), ("post", "/accounts/{account_id}/preview"),
    ("get", "/accounts/{account_id}/filters"), ("post", "/accounts/{account_id}/blocks"),
    ("get", "/accounts/{account_id}/blocks"), ("delete", "/accounts/{account_id}/blocks/{author}"),
    ("post", "/accounts/{account_id}/authors/{kind}"), ("get", "/accounts/{account_id}/authors/{kind}"),
    ("delete", "/accounts/{account_id}/authors/{kind}/{author}"), ("get", "/accounts/{account_id}/actions"),
    ("get", "/actions/{action_id}"), ("post", "/actions/{action_id}/approve"), ("post", "/actions/{action_id}/reject"),
    ("post", "/actions/{action_id}/undo"), ("get", "/audit"), ("post", "/accounts/{account_id}/block-lists"),
    ("get", "/accounts/{account_id}/block-lists"), ("get", "/accounts/{account_id}/block-lists/{subscription_id}"),
    ("get", "/accounts/{account_id}/block-lists/{subscription_id}/members"),
    ("post", "/accounts/{account_id}/block-lists/{subscription_id}/refresh"),
    ("delete", "/accounts/{account_id}/block-lists/{subscription_id}"),
    ("get", "/accounts/{account_id}/blocks/export.csv"), ("post", "/accounts/{account_id}/blocks/import"),
}
# Operations that can clash with what exists: a second account, block or list entry; a move an action's status
# does not allow.
CAN_CONFLICT = {
    ("post", "/accounts"), ("post", "/accounts/{account_id}/blocks"), ("post", "/blocks"),
    ("post", "/accounts/{account_id}/authors/{kind}"), ("post", "/actions/{action_id}/approve"),
    ("post", "/actions/{action_id}/reject"), ("post", "/actions/{action_id}/undo"),
    ("post", "/accounts/{account_id}/block-lists"),
}
CREATE_BODIES = [AccountCreate, Limits, RuleCreate, Filters, BlockCreate, AuthorEntry, BlockListCreate, TokenCreate,
                 ValidateRequest, PreviewRequest, IngestRequest]


@pytest.fixture(scope="module")
def app():
    return create_app(make_settings("sqlite+aiosqlite://"))


@pytest.fixture(scope="module")
def doc(app):
    return app.openapi()


def _operations(doc):
    """(method, path, operation) of every operation in the document."""
    return [(method, path, op) for path, ops in doc["paths"].items() for method, op in ops.items()]


def _protected(doc):
    return [(method, path, op) for method, path, op in _operations(doc) if path.startswith(API)]


async def test_docs_page_loads_swagger_ui_from_the_package_only(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        page = await client.get("/docs")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert re.findall(r"https?://", page.text) == [], "no CDN or other outside URL"
        assets = dict(re.findall(r'(?:href|src)="([^"]+\.(css|js|png))"', page.text))
        assert sorted(assets.values()) == ["css", "js", "png"], assets
        types = {"css": "text/css", "js": "text/javascript", "png": "image/png"}
        for url, kind in assets.items():
            answer = await client.get(url)
            assert answer.status_code == 200, url
            assert answer.headers["content-type"].startswith(types[kind]), (url, answer.headers["content-type"])
        assert b"SwaggerUIBundle" in (await client.get(next(u for u, k in assets.items() if k == "js"))).content
        assert "url: '/openapi.json'" in page.text and (await client.get("/openapi.json")).status_code == 200
        # ReDoc would load from a CDN; it is off rather than blank
        assert (await client.get("/redoc")).status_code == 404


def test_the_swagger_ui_files_carry_their_licence():
    from app.main import STATIC

    folder = STATIC / "swagger-ui"
    assert "Apache License" in (folder / "LICENSE").read_text()
    assert re.search(r"swagger-ui-dist@\d+\.\d+\.\d+", (folder / "README.md").read_text())


def test_the_bearer_scheme_is_declared_and_every_api_operation_requires_it(doc):
    schemes = doc["components"]["securitySchemes"]
    assert schemes == {"token": {"type": "http", "scheme": "bearer", "description": schemes["token"]["description"]}}
    for method, path, op in _protected(doc):
        assert op.get("security") == [{"token": []}], (method, path)
    for method, path, op in _operations(doc):
        if not path.startswith(API):
            assert "security" not in op, (method, path)  # /healthz, /readyz, /metrics stay open


def test_every_operation_lists_the_error_statuses_it_can_answer(doc):
    for method, path, op in _protected(doc):
        declared = {int(code) for code in op["responses"] if code.isdigit() and code.startswith("4")}
        short = (method, path.removeprefix(API))
        wanted = {401, 422}
        if "{" in path:
            wanted.add(404)
        if short not in OPEN_TO_EVERY_ROLE:
            wanted.add(403)
        if short in CAN_CONFLICT:
            wanted.add(409)
        if short in (("get", "/audit"), ("post", "/tokens"), ("post", "/alerts/subscriptions")):
            wanted.add(404)  # an account_id the token does not reach; accounts that do not exist
        assert declared == wanted, (method, path, sorted(declared), sorted(wanted))
        for code in declared:
            schema = op["responses"][str(code)]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, code)
            assert op["responses"][str(code)]["description"], (method, path, code)


def test_the_role_tables_above_name_real_operations(doc):
    names = {(method, path.removeprefix(API)) for method, path, _ in _protected(doc)}
    assert names >= OPEN_TO_EVERY_ROLE | CAN_CONFLICT


def test_at_least_nine_in_ten_schema_properties_have_a_description(doc):
    properties = [(name, prop, spec) for name, schema in doc["components"]["schemas"].items()
                  for prop, spec in schema.get("properties", {}).items()]
    described = [p for p in properties if p[2].get("description")]
    assert len(properties) > 250
    assert len(described) / len(properties) >= 0.9, f"{len(described)} of {len(properties)}"


@pytest.mark.parametrize("model", CREATE_BODIES, ids=lambda m: m.__name__)
def test_the_create_bodies_have_examples_the_api_accepts(model):
    examples = model.model_json_schema()["examples"]
    assert examples
    for example in examples:
        body = model.model_validate(example)
        if isinstance(body, RuleCreate):  # the rule language's parser is not in the model
            rules_service.checked_query(body.query, rules_service.checked_scope(body.scope))
