"""Cut a platform's OpenAPI document down to the paths the tests call and every component they reach.

A maintenance tool: when a test starts calling a path the subset lacks, add it to PATHS and run
`python -m tests.platforms.specs.prune` with ../shared/platform-specs beside the checkout; it
rewrites the subsets in this folder. tests/platforms/test_specs.py checks that each subset is
exactly what this function cuts from the full document.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
SHARED = HERE.parents[3] / "shared" / "platform-specs"

# The path templates the tests call (every method of each is kept, so a wrong method still fails
# as it would against the full document).
PATHS: dict[str, list[str]] = {
    "x-api-v2.openapi.json": [
        "/2/lists/{id}/members", "/2/tweets", "/2/tweets/search/recent", "/2/tweets/search/stream",
        "/2/tweets/search/stream/rules", "/2/tweets/{id}", "/2/tweets/{id}/retweeted_by",
        "/2/users/by/username/{username}", "/2/users/me", "/2/users/{id}", "/2/users/{id}/followers",
        "/2/users/{id}/following", "/2/users/{id}/mentions", "/2/users/{id}/retweets",
        "/2/users/{id}/retweets/{source_tweet_id}",
        "/2/users/{id}/timelines/reverse_chronological", "/2/users/{id}/tweets",
    ],
    "mastodon.openapi.json": [
        "/api/v1/accounts/lookup", "/api/v1/accounts/update_credentials", "/api/v1/accounts/verify_credentials",
        "/api/v1/accounts/{id}", "/api/v1/accounts/{id}/followers", "/api/v1/accounts/{id}/following",
        "/api/v1/accounts/{id}/statuses", "/api/v1/apps", "/api/v1/instance", "/api/v1/lists/{id}/accounts",
        "/api/v1/notifications", "/api/v1/statuses", "/api/v1/statuses/{id}", "/api/v1/statuses/{id}/context",
        "/api/v1/statuses/{id}/favourite",
        "/api/v1/statuses/{id}/reblog", "/api/v1/statuses/{id}/unfavourite", "/api/v1/statuses/{id}/unreblog",
        "/api/v1/streaming/hashtag", "/api/v1/timelines/home", "/api/v1/timelines/list/{list_id}",
        "/api/v1/timelines/public", "/api/v1/timelines/tag/{hashtag}", "/oauth/authorize", "/oauth/token",
    ],
}
# Components a test reads directly rather than through a path (test_normalize uses Quote's example).
EXTRA: dict[str, list[str]] = {"mastodon.openapi.json": ["#/components/schemas/Quote"]}


def refs(node: Any) -> Iterator[str]:
    """Every `$ref` string anywhere inside a JSON value."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def _component(ref: str) -> tuple[str, str]:
    """`#/components/schemas/Tweet` -> ("schemas", "Tweet"); other refs are not ours to follow."""
    parts = ref.split("/")
    if len(parts) != 4 or parts[:2] != ["#", "components"]:
        raise ValueError(f"unsupported $ref {ref!r}")
    return parts[2], parts[3].replace("~1", "/").replace("~0", "~")


def prune(doc: dict[str, Any], paths: Iterable[str], extra: Iterable[str] = ()) -> dict[str, Any]:
    """The document with only `paths` (in the document's order) and the components they reach."""
    wanted = set(paths)
    missing = wanted - doc["paths"].keys()
    if missing:
        raise KeyError(f"not in the document: {sorted(missing)}")
    kept_paths = {p: item for p, item in doc["paths"].items() if p in wanted}
    reached: set[tuple[str, str]] = set()
    todo = [*refs(kept_paths), *extra]
    while todo:
        key = _component(todo.pop())
        if key not in reached:
            reached.add(key)
            todo.extend(refs(doc["components"][key[0]][key[1]]))
    components = {
        section: {name: value for name, value in items.items()
                  if (section, name) in reached or section == "securitySchemes"}  # named, not $ref'd
        for section, items in doc.get("components", {}).items()
    }
    out = {k: v for k, v in doc.items() if k not in ("paths", "components")}
    out["paths"] = kept_paths
    out["components"] = {s: items for s, items in components.items() if items}
    return out


def subset(name: str, full: dict[str, Any]) -> dict[str, Any]:
    """The subset of the named document that the tests keep."""
    return prune(full, PATHS[name], EXTRA.get(name, ()))


def render(name: str, full: dict[str, Any]) -> str:
    """The subset's file text, as it is kept in this folder."""
    return json.dumps(subset(name, full), indent=1, ensure_ascii=False) + "\n"


def main() -> None:
    """Rewrite the subsets in this folder from the full documents in ../shared/platform-specs."""
    for name, paths in PATHS.items():
        text = render(name, json.loads((SHARED / name).read_text()))
        (HERE / name).write_text(text)
        print(f"{name}: {len(paths)} paths, {len(text) // 1024} KiB")


if __name__ == "__main__":
    main()
