"""A small AT Protocol lexicon checker: XRPC requests, bodies, records and responses.

Loads the lexicons in specs/atproto-lexicons (copied from ../shared/platform-specs), plus
hand-written extracts in fixtures/bluesky/lexicons for the few methods that folder lacks (taken
from docs.bsky.app), and checks values against them: required fields, types, string formats (shallowly), lengths and
bounds, const, refs (local `#def`, `nsid#def`, `nsid`) and unions (by `$type`; open unions
accept types they do not list). Values of type `unknown` that name a known record type (a
postView's `record`) are checked as that record. A ref into a lexicon that is not in either
folder is accepted unchecked: the folder holds only what reposter touches.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import httpx

from tests.platforms.openapi_check import spec_path

EXTRA = Path(__file__).parent / "fixtures" / "bluesky" / "lexicons"

FORMATS = {
    "did": re.compile(r"^did:[a-z]+:[a-zA-Z0-9._:%-]+$"),
    "handle": re.compile(r"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$"),
    "at-uri": re.compile(r"^at://[^/\s]+(/[a-zA-Z0-9.-]+(/[a-zA-Z0-9._:~-]+)?)?$"),
    "cid": re.compile(r"^[a-zA-Z0-9+=]{8,}$"),
    "uri": re.compile(r"^[a-z][a-z0-9+.-]*:\S+$"),
    "nsid": re.compile(r"^[a-zA-Z]([a-zA-Z0-9-]*\.)+[a-zA-Z][a-zA-Z0-9]*$"),
    "language": re.compile(r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]+)*$"),
    "tid": re.compile(r"^[234567a-z]{13}$"),
    "record-key": re.compile(r"^[a-zA-Z0-9._:~-]{1,512}$"),
}


def _format_ok(fmt: str, value: str) -> bool:
    """Whether a string fits a lexicon format (shallow, as a test needs)."""
    if fmt == "datetime":
        try:
            return datetime.fromisoformat(value).tzinfo is not None
        except ValueError:
            return False
    if fmt == "at-identifier":
        return bool(FORMATS["did"].match(value) or FORMATS["handle"].match(value))
    pattern = FORMATS.get(fmt)
    return pattern is None or bool(pattern.match(value))


class Lexicons:
    """Every lexicon document by NSID, and validation against their definitions."""

    def __init__(self, *folders: Path) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        for folder in folders:
            for path in sorted(folder.rglob("*.json")):
                doc = json.loads(path.read_text())
                self.docs[doc["id"]] = doc

    def resolve(self, ref: str, base: str) -> tuple[dict[str, Any], str] | None:
        """The definition a ref names, with its NSID; None if its lexicon is not loaded."""
        nsid, _, name = ref.partition("#")
        nsid = nsid or base
        doc = self.docs.get(nsid)
        if doc is None:
            return None
        if (name or "main") not in doc["defs"]:
            raise AssertionError(f"lexicon {nsid} has no def {name or 'main'}")
        return doc["defs"][name or "main"], nsid

    def check(self, value: Any, schema: dict[str, Any], base: str, path: str = "$") -> list[str]:
        """Problems of `value` against `schema` (defined in lexicon `base`)."""
        kind = schema.get("type")
        handler = getattr(self, f"_check_{(kind or 'none').replace('-', '_')}", None)
        if handler is None:
            return [f"{path}: unsupported schema type {kind!r}"]
        return handler(value, schema, base, path)

    def _check_ref(self, value, schema, base, path):
        target = self.resolve(schema["ref"], base)
        return [] if target is None else self.check(value, target[0], target[1], path)

    def _check_object(self, value, schema, base, path):
        if not isinstance(value, dict):
            return [f"{path}: expected object, got {type(value).__name__}"]
        nullable = set(schema.get("nullable", []))
        errors = [f"{path}: missing required {name!r}" for name in schema.get("required", []) if name not in value]
        for name, prop in schema.get("properties", {}).items():
            if name in value and not (value[name] is None and name in nullable):
                errors += self.check(value[name], prop, base, f"{path}.{name}")
        return errors

    def _check_record(self, value, schema, base, path):
        errors = self.check(value, schema["record"], base, path)
        if isinstance(value, dict) and value.get("$type") not in (None, base):
            errors.append(f"{path}: $type {value.get('$type')!r} is not {base}")
        return errors

    def _check_string(self, value, schema, base, path):
        if not isinstance(value, str):
            return [f"{path}: expected string, got {type(value).__name__}"]
        errors = []
        if "format" in schema and not _format_ok(schema["format"], value):
            errors.append(f"{path}: {value!r} is not a valid {schema['format']}")
        if len(value.encode()) > schema.get("maxLength", 10**9) or len(value) > schema.get("maxGraphemes", 10**9):
            errors.append(f"{path}: too long")
        if len(value) < schema.get("minLength", 0):
            errors.append(f"{path}: too short")
        return errors + self._enum(value, schema, path)

    def _check_integer(self, value, schema, base, path):
        if not isinstance(value, int) or isinstance(value, bool):
            return [f"{path}: expected integer, got {type(value).__name__}"]
        if not schema.get("minimum", -(10**18)) <= value <= schema.get("maximum", 10**18):
            return [f"{path}: {value} out of range"]
        return self._enum(value, schema, path)

    def _check_boolean(self, value, schema, base, path):
        if not isinstance(value, bool):
            return [f"{path}: expected boolean, got {type(value).__name__}"]
        return self._enum(value, schema, path)

    def _check_array(self, value, schema, base, path):
        if not isinstance(value, list):
            return [f"{path}: expected array, got {type(value).__name__}"]
        errors = []
        if not schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", 10**9):
            errors.append(f"{path}: {len(value)} items out of bounds")
        for i, item in enumerate(value):
            errors += self.check(item, schema["items"], base, f"{path}[{i}]")
        return errors

    def _check_union(self, value, schema, base, path):
        if not isinstance(value, dict) or not isinstance(value.get("$type"), str):
            return [f"{path}: union member needs a $type"]
        refs = {self._full(ref, base) for ref in schema["refs"]}
        kind = self._full(value["$type"], base)
        if kind not in refs:
            return [f"{path}: $type {kind} not allowed here"] if schema.get("closed") else []
        target = self.resolve(kind, base)
        return [] if target is None else self.check(value, target[0], target[1], path)

    def _check_unknown(self, value, schema, base, path):
        if not isinstance(value, dict):
            return [f"{path}: unknown-typed values must be objects"]
        target = self.resolve(value["$type"], base) if isinstance(value.get("$type"), str) else None
        if target and target[0].get("type") == "record":
            return self.check(value, target[0], target[1], path)
        return []

    def _check_blob(self, value, schema, base, path):
        if not isinstance(value, dict) or value.get("$type") != "blob" or "mimeType" not in value:
            return [f"{path}: not a blob"]
        return []

    @staticmethod
    def _enum(value, schema, path):
        if "const" in schema and value != schema["const"]:
            return [f"{path}: must be {schema['const']!r}"]
        if "enum" in schema and value not in schema["enum"]:
            return [f"{path}: {value!r} not in {schema['enum']}"]
        return []

    @staticmethod
    def _full(ref: str, base: str) -> str:
        """`#view` -> `base#view`; `nsid` and `nsid#main` -> `nsid`."""
        nsid, _, name = ref.partition("#")
        full = f"{nsid or base}#{name}" if name else nsid
        return full.removesuffix("#main")

    def method(self, nsid: str) -> dict[str, Any]:
        """The query or procedure definition of an XRPC method."""
        doc = self.docs.get(nsid)
        assert doc is not None, f"no lexicon for XRPC method {nsid}"
        return doc["defs"]["main"]

    def check_params(self, nsid: str, params: dict[str, list[str]]) -> list[str]:
        """Query-string parameters (each name -> its values) against the method's `parameters`."""
        spec = self.method(nsid).get("parameters", {"properties": {}})
        errors = [f"{nsid}: missing parameter {n!r}" for n in spec.get("required", []) if n not in params]
        for name, values in params.items():
            prop = spec["properties"].get(name)
            if prop is None:
                errors.append(f"{nsid}: undocumented parameter {name!r}")
            elif prop["type"] == "array":
                errors += self.check(values, prop, nsid, f"{nsid}?{name}")
            elif len(values) != 1:
                errors.append(f"{nsid}: parameter {name!r} repeated")
            else:
                errors += self.check(_typed(values[0], prop["type"]), prop, nsid, f"{nsid}?{name}")
        return errors

    def check_request(self, request: httpx.Request) -> list[str]:
        """Method, parameters and body (and a created record) of one XRPC request."""
        nsid = request.url.path.removeprefix("/xrpc/")
        main = self.method(nsid)
        expected = "GET" if main["type"] == "query" else "POST"
        if request.method != expected:
            return [f"{nsid}: {request.method}, expected {expected}"]
        params: dict[str, list[str]] = {}
        for name, value in request.url.params.multi_items():
            params.setdefault(name, []).append(value)
        errors = self.check_params(nsid, params)
        if main["type"] == "procedure":
            errors += self._check_body(nsid, main, request.content)
        return errors

    def _check_body(self, nsid: str, main: dict[str, Any], content: bytes) -> list[str]:
        """A procedure's JSON input, and the record inside createRecord / putRecord."""
        if "input" not in main:
            return [f"{nsid}: takes no body"] if content else []
        body = json.loads(content or b"null")
        errors = self.check(body, main["input"]["schema"], nsid, nsid)
        if nsid in ("com.atproto.repo.createRecord", "com.atproto.repo.putRecord") and isinstance(body, dict):
            errors += self.check_record(body.get("collection", ""), body.get("record"))
        return errors

    def check_record(self, collection: str, record: Any) -> list[str]:
        """A record against its collection's record lexicon (which must be known)."""
        target = self.resolve(collection, collection)
        assert target is not None, f"no lexicon for record collection {collection}"
        if not isinstance(record, dict) or record.get("$type") != collection:
            return [f"{collection}: record must carry $type {collection}"]
        return self.check(record, target[0], collection, collection)

    def check_output(self, nsid: str, body: Any) -> list[str]:
        """A response body against the method's `output` schema."""
        output = self.method(nsid).get("output")
        if output is None or "schema" not in output:
            return []
        return self.check(body, output["schema"], nsid, f"{nsid}->")

    def check_error(self, nsid: str, body: Any) -> list[str]:
        """An XRPC error body: {error, message?}."""
        if not isinstance(body, dict) or not isinstance(body.get("error"), str):
            return [f"{nsid}: error body needs a string `error`"]
        return []


def _typed(value: str, kind: str) -> Any:
    """A query-string value read as the lexicon type it claims to be."""
    if kind == "integer":
        return int(value) if re.fullmatch(r"-?\d+", value) else value
    if kind == "boolean":
        return {"true": True, "false": False}.get(value, value)
    return value


@cache
def lexicons() -> Lexicons:
    """The published lexicons (specs/atproto-lexicons) plus the hand-written extracts."""
    return Lexicons(spec_path("atproto-lexicons"), EXTRA)
