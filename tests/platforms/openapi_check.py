"""Check requests and responses against a platform's published OpenAPI document.

The documents are the subsets in tests/platforms/specs (cut from ../shared/platform-specs); nothing
here is imported at run time by the service. `OpenAPIContract(path).check_request(request)` asserts the method and
path exist, required parameters are present, every query parameter is documented and its value
fits the schema, and the JSON body fits the request schema; `check_response(method, path,
status, body)` validates a fixture body against the documented response schema.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from openapi_schema_validator import OAS30Validator, OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPECS = Path(__file__).resolve().parent / "specs"


def spec_path(name: str) -> Path:
    """Path of a spec file kept with the tests (tests/platforms/specs/README.md says whence)."""
    return SPECS / name


@cache
def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


class OpenAPIContract:
    """One OpenAPI document, with its paths compiled to matchers."""

    def __init__(self, filename: str, *, server_prefix: str = "") -> None:
        self.doc = _load(spec_path(filename))
        self.prefix = server_prefix
        self.validator_cls = OAS31Validator if self.doc["openapi"].startswith("3.1") else OAS30Validator
        self.registry = Registry().with_resource("urn:spec", Resource(self.doc, DRAFT202012))
        self.routes = [(self._compile(p), p) for p in self.doc["paths"]]

    @staticmethod
    def _compile(template: str) -> re.Pattern[str]:
        pattern = re.sub(r"\\\{[^}]+\\\}", r"[^/]+", re.escape(template))
        return re.compile(f"^{pattern}$")

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]]:
        """The documented operation for `method path`, or an assertion error."""
        path = path.removeprefix(self.prefix) or "/"
        matches = [t for rx, t in self.routes if rx.match(path)]
        # Prefer literal segments over templated ones (/timelines/home over /timelines/{x}).
        matches.sort(key=lambda t: t.count("{"))
        for template in matches:
            op = self.doc["paths"][template].get(method.lower())
            if op:
                return template, op
        raise AssertionError(f"{method} {path} is not in the published API")

    def _validate(self, schema: dict[str, Any], value: Any, where: str) -> None:
        wrapped = _into_document(schema)
        validator = self.validator_cls(wrapped, registry=self.registry)
        errors = sorted(validator.iter_errors(value), key=lambda e: list(e.path))
        assert not errors, f"{where}: {errors[0].message} at {list(errors[0].path)}"

    def _params(self, template: str, op: dict[str, Any]) -> list[dict[str, Any]]:
        shared = self.doc["paths"][template].get("parameters", [])
        return [self._deref(p) for p in [*shared, *op.get("parameters", [])]]

    def _deref(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            target: Any = self.doc
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = target
        return node

    def check_request(self, request: httpx.Request) -> None:
        """Assert one request the adapter sent is a documented call with documented arguments."""
        template, op = self.operation(request.method, request.url.path)
        where = f"{request.method} {template}"
        params = {p["name"]: p for p in self._params(template, op) if p.get("in") == "query"}
        sent: dict[str, list[str]] = {}
        for key, value in request.url.params.multi_items():
            sent.setdefault(key, []).append(value)
        for key, values in sent.items():
            key = key if key in params else key.removesuffix("[]")  # Rails-style any[]=a&any[]=b
            assert key in params, f"{where}: query parameter {key!r} is not documented"
            schema = params[key].get("schema", {})
            if schema.get("type") == "array" or key.endswith("[]"):
                continue
            if schema.get("type") == "integer":
                assert values[0].lstrip("-").isdigit(), f"{where}: {key}={values[0]!r} is not an integer"
            elif "enum" in schema:
                for item in values[0].split(","):
                    assert item in schema["enum"], f"{where}: {key}={item!r} not in {schema['enum']}"
        for name, param in params.items():
            if param.get("required"):
                assert name in sent, f"{where}: required query parameter {name!r} missing"
        body = op.get("requestBody")
        if body and request.content:
            media = body.get("content", {})
            ctype = request.headers.get("content-type", "")
            if "application/json" in ctype and "application/json" in media:
                self._validate(media["application/json"]["schema"], json.loads(request.content), where)

    def check_response(self, method: str, path: str, status: int, body: Any) -> None:
        """Assert a fixture body fits the response schema documented for `status`."""
        template, op = self.operation(method, path)
        responses = op.get("responses", {})
        response = responses.get(str(status)) or responses.get("default")
        assert response is not None, f"{method} {template}: status {status} is not documented"
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        if schema is not None:
            self._validate(schema, body, f"{method} {template} -> {status}")


def _into_document(node: Any) -> Any:
    """Point every local `#/...` reference of a schema into the whole document (nested ones too)."""
    if isinstance(node, dict):
        return {k: ("urn:spec" + v if k == "$ref" and isinstance(v, str) and v.startswith("#/") else _into_document(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_into_document(v) for v in node]
    return node
