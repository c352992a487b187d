"""The lexicon checker the Bluesky tests rely on finds what is wrong."""

from __future__ import annotations

import httpx

from tests.platforms.lexicon_check import lexicons


# ---- the lexicon checker checks -----------------------------------------------------------
def test_the_lexicon_checker_finds_what_is_wrong():
    lex = lexicons()
    ok = httpx.Request(
        "GET", "https://pds.test/xrpc/app.bsky.feed.searchPosts", params={"q": "x", "limit": "25", "tag": ["a", "b"]}
    )
    assert lex.check_request(ok) == []
    for params in ({"limit": "5"}, {"q": "x", "limit": "500"}, {"q": "x", "bogus": "1"}, {"q": "x", "limit": "many"}):
        assert lex.check_request(httpx.Request("GET", "https://pds.test/xrpc/app.bsky.feed.searchPosts", params=params))
    assert lex.check_request(httpx.Request("POST", "https://pds.test/xrpc/app.bsky.feed.searchPosts?q=x"))
    record = {
        "$type": "app.bsky.feed.repost",
        "subject": {"uri": "at://did:plc:a/app.bsky.feed.post/3l2222222222a"},
        "createdAt": "yesterday",
    }
    body = {"repo": "did:plc:a", "collection": "app.bsky.feed.repost", "record": record}
    problems = lex.check_request(
        httpx.Request("POST", "https://pds.test/xrpc/com.atproto.repo.createRecord", json=body)
    )
    assert any("cid" in p for p in problems) and any("datetime" in p for p in problems)
    view = {
        "uri": "at://did:plc:a/app.bsky.feed.post/3l2222222222a",
        "cid": "bafyreiabc123",
        "indexedAt": "2024-11-22T01:00:00Z",
        "author": {"did": "did:plc:a", "handle": "a.test"},
        "record": {"$type": "app.bsky.feed.post", "text": 5},
        "embed": {"$type": "app.bsky.embed.images#view", "images": [{"thumb": "https://x/y"}]},
    }
    problems = lex.check_output("app.bsky.feed.getPosts", {"posts": [view]})
    assert (
        any("createdAt" in p for p in problems)
        and any("text" in p for p in problems)
        and any("fullsize" in p for p in problems)
    )
    assert (
        lex.check_output(
            "app.bsky.feed.getPosts",
            {
                "posts": [
                    {
                        **view,
                        "record": {"$type": "app.bsky.feed.post", "text": "", "createdAt": "2024-11-22T01:00:00Z"},
                        "embed": {"$type": "app.bsky.embed.gallery#view"},
                    }
                ]
            },
        )
        == []
    )
