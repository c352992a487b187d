"""Rule translation to X's syntax, and syncing the app's filtered-stream rules on the fake."""

import json

import pytest

from app.platforms.x.client import XClient
from app.platforms.x.rules import RULE_TAG, rule_for_source, sync_stream_rules, to_x_query


@pytest.mark.parametrize(
    ("query", "stream", "search"),
    [
        ("espresso", "espresso", "espresso"),
        ('(espresso OR "latte art") lang:en -is:reply -has:links',) * 3,
        (
            "#coffee from:@alice to:bob @barista",
            "#coffee from:alice to:bob @barista",
            "#coffee from:alice to:bob @barista",
        ),
        ("#coffee is:repost -is:quote", "#coffee is:retweet -is:quote", "#coffee is:retweet -is:quote"),
        ("url:example.com", "url:example.com", "url:example.com"),
        ("url:https://example.com/a", 'url:"https://example.com/a"', 'url:"https://example.com/a"'),
        ("#coffee followers_count:500", "#coffee followers_count:500", None),
        ("#coffee followers_count:100..5000", "#coffee followers_count:100..5000", None),
        ("#coffee followers_count:lots", None, None),
        ("coca-cola", '"coca-cola"', '"coca-cola"'),
        ("espresso -(decaf OR instant)", "espresso -decaf -instant", "espresso -decaf -instant"),
        ("espresso -(decaf instant)", None, None),
        ("espresso -(decaf OR (a b))", None, None),
        ("#coffee is:bot", None, None),
        ("#coffee is:sponsored", None, None),
        ("#coffee has:polls", None, None),
        ("#coffee near:rome", None, None),
        ("has:links is:reply", None, None),  # nothing that can stand alone
        ("-espresso", None, None),
        ("", None, None),
        ("espresso OR", None, None),
        ("(espresso", None, None),
        ("espresso)", None, None),
        ('"latte art', None, None),
        ('lat"te', None, None),
        ("espresso -", None, None),
    ],
)
def test_translation(query, stream, search):
    assert to_x_query(query) == stream
    assert to_x_query(query, for_stream=False) == search


def test_a_rule_longer_than_the_access_level_allows_does_not_translate():
    query = " OR ".join(f"#tag{i}" for i in range(60))
    assert to_x_query(query, max_length=len(query)) == query
    assert to_x_query(query, max_length=512) is None


def test_sources_as_rules():
    assert rule_for_source("tag:#coffee") == "#coffee"
    assert rule_for_source("tags:coffee, tea") == "#coffee OR #tea"
    assert rule_for_source("user:@alice") == "from:alice"
    assert rule_for_source("search:espresso is:repost") == "espresso is:retweet"
    assert rule_for_source("search:#a is:bot") is None
    assert rule_for_source("home") is None and rule_for_source("tag:") is None


async def test_sync_adds_what_is_missing_and_keeps_what_is_there(hx):
    hx.fake.rules["1"] = {"id": "1", "value": "#coffee", "tag": "someone else"}
    async with hx.http() as http:
        client = XClient(hx.context(), http)
        sync = await sync_stream_rules(client, ["#coffee", "from:alice"])
        assert sync.added == ["from:alice"] and sync.deleted == [] and sync.rejected == {}
        again = await sync_stream_rules(client, ["#coffee", "from:alice"])
    assert again.added == [] and set(again.rules.values()) == {"#coffee", "from:alice"}
    assert {r["value"]: r["tag"] for r in hx.fake.rules.values()} == {"#coffee": "someone else", "from:alice": RULE_TAG}
    posts = [json.loads(r.content) for r in hx.requests if r.method == "POST"]
    assert posts == [{"add": [{"value": "from:alice", "tag": RULE_TAG}]}]
    hx.validate_requests()


async def test_sync_with_prune_deletes_only_our_stale_rules(hx):
    hx.fake.rules.update(
        {
            "1": {"id": "1", "value": "#old", "tag": RULE_TAG},
            "2": {"id": "2", "value": "#theirs", "tag": "other tool"},
        }
    )
    async with hx.http() as http:
        sync = await sync_stream_rules(XClient(hx.context(), http), ["#new"], prune=True)
    assert sync.deleted == ["1"] and sync.added == ["#new"]
    assert sorted(r["value"] for r in hx.fake.rules.values()) == ["#new", "#theirs"]
    bodies = [json.loads(r.content) for r in hx.requests if r.method == "POST"]
    assert bodies[0] == {"delete": {"ids": ["1"]}}  # room first, then the new rules
    hx.validate_requests()


async def test_sync_reports_rules_x_refuses(hx):
    hx.fake.refused_rules.add("#coffee followers_count:500")
    async with hx.http() as http:
        sync = await sync_stream_rules(XClient(hx.context(), http), ["#coffee followers_count:500", "#tea"])
    assert sync.added == ["#tea"] and sync.rejected == {"#coffee followers_count:500": "UnprocessableEntity"}


async def test_sync_reads_every_page_of_rules(hx):
    for i in range(5):
        hx.fake.rules[str(i)] = {"id": str(i), "value": f"#t{i}", "tag": RULE_TAG}
    async with hx.http() as http:
        sync = await sync_stream_rules(XClient(hx.context(), http), [f"#t{i}" for i in range(5)])
    assert sync.added == [] and len(sync.rules) == 5
    assert sum(r.url.path.endswith("/rules") and r.method == "GET" for r in hx.requests) == 3
    hx.validate_requests()
