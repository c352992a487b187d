"""Facets for text reposter publishes (quote templates): hashtags, links and mentions.

Bluesky does not parse post text: a #tag, a link or an @mention is only live when a facet marks
its UTF-8 byte range. Mentions need the DID, so handles are resolved by the caller.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

FACET = "app.bsky.richtext.facet"
_TAG = re.compile(r"(?:^|\s)(#[^\d\s#][^\s#]*)", re.UNICODE)
_LINK = re.compile(r"(?:^|\s)(https?://[^\s]+)")
_MENTION = re.compile(r"(?:^|\s)(@[a-zA-Z0-9][a-zA-Z0-9.-]*\.[a-zA-Z]{2,})")
_TRAILING = ".,;:!?)]}'\""

Resolve = Callable[[str], Awaitable[str | None]]


def _span(text: str, start: int, end: int) -> dict[str, int]:
    """The UTF-8 byte range of text[start:end]."""
    return {"byteStart": len(text[:start].encode()), "byteEnd": len(text[:end].encode())}


def _matches(pattern: re.Pattern[str], text: str) -> list[tuple[int, int, str]]:
    """(start, end, value) of each match, trailing punctuation left out."""
    found = []
    for match in pattern.finditer(text):
        value = match.group(1).rstrip(_TRAILING)
        found.append((match.start(1), match.start(1) + len(value), value))
    return found


async def facets(text: str, resolve: Resolve) -> list[dict[str, Any]]:
    """Tag, link and mention facets for `text`; mentions whose handle does not resolve stay text."""
    result = []
    for start, end, value in _matches(_TAG, text):
        feature = {"$type": f"{FACET}#tag", "tag": value[1:]}
        result.append({"index": _span(text, start, end), "features": [feature]})
    for start, end, value in _matches(_LINK, text):
        feature = {"$type": f"{FACET}#link", "uri": value}
        result.append({"index": _span(text, start, end), "features": [feature]})
    for start, end, value in _matches(_MENTION, text):
        did = await resolve(value[1:].lower())
        if did:
            feature = {"$type": f"{FACET}#mention", "did": did}
            result.append({"index": _span(text, start, end), "features": [feature]})
    return sorted(result, key=lambda f: f["index"]["byteStart"])
