"""The platform spec subsets in tests/platforms/specs: whole, self-contained, and still the published text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.ci import unavailable
from tests.platforms.specs import prune
from tests.platforms.specs.prune import HERE, PATHS, SHARED

DOC = {
    "openapi": "3.1.0",
    "info": {"title": "t", "version": "1"},
    "paths": {
        "/a": {"get": {"responses": {"200": {"$ref": "#/components/responses/A"}}}},
        "/b": {"post": {"requestBody": {"$ref": "#/components/schemas/B"}}},
    },
    "components": {
        "responses": {"A": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}}},
        "schemas": {
            "A": {"properties": {"x": {"items": {"$ref": "#/components/schemas/X~1Y"}}}},
            "X/Y": {"type": "string"},
            "B": {"type": "object"},
            "Loop": {"properties": {"self": {"$ref": "#/components/schemas/Loop"}}},
        },
        "securitySchemes": {"Bearer": {"type": "http"}},
    },
}


def test_prune_keeps_the_paths_asked_for_and_every_component_they_reach_however_deep():
    out = prune.prune(DOC, ["/a"])
    assert list(out["paths"]) == ["/a"]
    assert out["components"]["responses"] == DOC["components"]["responses"]
    assert set(out["components"]["schemas"]) == {"A", "X/Y"}  # through a response, a property, an escaped name
    assert out["components"]["securitySchemes"] == DOC["components"]["securitySchemes"]  # named, never $ref'd
    assert out["info"] == DOC["info"]


def test_prune_follows_extra_refs_and_cycles_and_drops_empty_sections():
    out = prune.prune(DOC, ["/b"], ["#/components/schemas/Loop"])
    assert set(out["components"]["schemas"]) == {"B", "Loop"}
    assert "responses" not in out["components"]


def test_prune_refuses_a_path_the_document_lacks():
    with pytest.raises(KeyError, match="/c"):
        prune.prune(DOC, ["/a", "/c"])


@pytest.mark.parametrize("name", sorted(PATHS))
def test_every_ref_in_a_subset_resolves_inside_it(name):
    doc = json.loads((HERE / name).read_text())
    assert set(doc["paths"]) == set(PATHS[name])
    for ref in prune.refs(doc):
        section, key = ref.split("/")[2], ref.split("/")[3].replace("~1", "/").replace("~0", "~")
        assert key in doc["components"][section], f"{name}: {ref} does not resolve"


def _shared() -> Path:
    """../shared/platform-specs: CI has it beside the checkout (a missing one fails there); a clone
    without it skips only these comparisons, the tests themselves read the subsets in tests/."""
    if not SHARED.is_dir():
        unavailable(f"{SHARED} is not beside the checkout; the subsets are compared with it where it is")
    return SHARED


@pytest.mark.parametrize("name", sorted(PATHS))
def test_each_openapi_subset_is_exactly_its_part_of_the_full_document(name):
    """Skips when ../shared/platform-specs is absent, in CI too (not tests.ci.unavailable): the subsets
    exist so that a clone without ../shared passes; where the originals are at hand, the subset must
    be what prune cuts from them, byte for byte, so it cannot drift from the published text."""
    full = json.loads((_shared() / name).read_text())
    rerun = f"rerun `python -m tests.platforms.specs.prune` for {name}"
    assert (HERE / name).read_text() == prune.render(name, full), rerun


def test_the_lexicons_and_the_server_notes_are_unchanged_copies():
    """Skips when ../shared/platform-specs is absent, in CI too: see the OpenAPI subsets' test."""
    shared = _shared()
    originals = sorted(p.relative_to(shared) for p in (shared / "atproto-lexicons").rglob("*.json"))
    copies = sorted(p.relative_to(HERE) for p in (HERE / "atproto-lexicons").rglob("*.json"))
    assert copies == originals
    for rel in [*originals, Path("mastodon-servers.md")]:
        assert (HERE / rel).read_bytes() == (shared / rel).read_bytes(), rel
