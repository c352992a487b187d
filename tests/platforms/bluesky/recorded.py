"""What the Bluesky tests read back from the harness: the calls it saw, their parameters and bodies."""

from __future__ import annotations

import json
from pathlib import Path

from tests.platforms.harness_bluesky import BlueskyHarness, did_for

FIXTURES = Path(__file__).parents[1] / "fixtures" / "bluesky"
LIST_URI = f"at://{did_for('reposterbot')}/app.bsky.graph.list/3kcurated2222"


def nsids(h: BlueskyHarness) -> list[str]:
    """The XRPC methods the adapter called, in order."""
    return [r.url.path.removeprefix("/xrpc/") for r in h.requests]


def params_of(h: BlueskyHarness, nsid: str) -> list[dict[str, list[str]]]:
    """The query parameters of each call to `nsid`."""
    out = []
    for r in h.requests:
        if r.url.path.endswith(nsid):
            params: dict[str, list[str]] = {}
            for k, v in r.url.params.multi_items():
                params.setdefault(k, []).append(v)
            out.append(params)
    return out


def bodies_of(h: BlueskyHarness, nsid: str) -> list[dict]:
    """The JSON bodies of each call to `nsid`."""
    return [json.loads(r.content) for r in h.requests if r.url.path.endswith(nsid)]



async def fetched_post(h: BlueskyHarness, kind: str = "plain", **kw):
    """A post of `kind` added to the harness, as the adapter fetches it."""
    pid = h.add_post(kind, **kw)
    posts, _ = await h.platform.feed_source(h.context(), h.http()).fetch(h.source, None)
    return next(p for p in posts if p.id == pid)
