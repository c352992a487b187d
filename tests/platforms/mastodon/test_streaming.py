"""The streaming API: the server-sent events parser, and streams merged into Posts."""

from __future__ import annotations

import asyncio
import json

import pytest

from app.platforms.base import CredentialsInvalid, PlatformError, PostChange
from app.platforms.mastodon.feed import MastodonFeedSource
from app.platforms.mastodon.sources import stream_endpoints
from app.platforms.mastodon.streaming import ServerEvent, SSEParser, event_to_post
from tests.platforms.mastodon.conftest import context


def parse(text: str) -> list[ServerEvent]:
    parser = SSEParser()
    events = [parser.feed(line) for line in text.split("\n")]
    return [e for e in events if e is not None]


def test_parser_reads_events_and_skips_heartbeats():
    text = ":)\nevent: update\ndata: {\"id\": \"1\"}\n\n:thump\nevent: delete\ndata: 1\n\n"
    assert parse(text) == [ServerEvent("update", '{"id": "1"}'), ServerEvent("delete", "1")]


def test_parser_joins_data_lines_and_handles_crlf_and_missing_space():
    text = "event:update\r\ndata:{\"a\":\r\ndata: 1}\r\n\r\n"
    assert parse(text) == [ServerEvent("update", '{"a":\n1}')]


def test_parser_ignores_an_event_without_data_and_names_unnamed_ones_message():
    assert parse("event: update\n\ndata: x\n\nid: 5\nretry: 10\n\n") == [ServerEvent("message", "x")]


def test_update_events_become_posts_and_deletes_and_edits_changes(fake):
    status = fake.render(fake.new_status(fake.add_account("alice"), "hello #coffee"))
    post = event_to_post(ServerEvent("update", json.dumps(status)))
    assert post is not None and post.id == status["id"] and post.hashtags == ["coffee"]
    assert event_to_post(ServerEvent("delete", status["id"])) == PostChange(platform="mastodon", id=status["id"])
    edited = event_to_post(ServerEvent("status.update", json.dumps(status)))
    assert isinstance(edited, PostChange) and edited.id == status["id"] and edited.post.text == post.text
    assert event_to_post(ServerEvent("update", "{not json")) is None
    assert event_to_post(ServerEvent("notification", "{}")) is None


def test_stream_endpoints():
    assert stream_endpoints("tags:coffee,tea") == [
        ("/api/v1/streaming/hashtag", {"tag": "coffee"}),
        ("/api/v1/streaming/hashtag", {"tag": "tea"}),
    ]
    assert stream_endpoints("home") == [("/api/v1/streaming/user", {})]
    assert stream_endpoints("local") == [("/api/v1/streaming/public/local", {})]
    assert stream_endpoints("list:9") == [("/api/v1/streaming/list", {"list": "9"})]


async def take(iterator, n: int) -> list:
    items = []
    async for item in iterator:
        items.append(item)
        if len(items) == n:
            break
    await iterator.aclose()
    return items


async def test_stream_merges_tag_streams_and_yields_each_status_once(fake, contract):
    alice = fake.add_account("alice")
    both = fake.render(fake.new_status(alice, "#coffee and #tea"))
    tea = fake.render(fake.new_status(alice, "just #tea"))
    fake.push_event("hashtag:coffee", "update", both)
    fake.push_event("hashtag:coffee", "delete", "12345")
    fake.push_event("hashtag:tea", "update", both)
    fake.push_event("hashtag:tea", "update", tea)
    feed = MastodonFeedSource(context(fake), fake.client())
    items = await asyncio.wait_for(take(feed.stream(["tags:coffee,tea"]), 3), timeout=5)
    posts = [i for i in items if not isinstance(i, PostChange)]
    assert sorted(p.id for p in posts) == sorted([both["id"], tea["id"]])
    assert [i for i in items if isinstance(i, PostChange)] == [
        PostChange(platform="mastodon", id="12345", ref={"instance": "social.example"})]
    streams = [ex.request for ex in fake.exchanges]
    assert {r.url.params["tag"] for r in streams} == {"coffee", "tea"}
    assert all(r.headers["authorization"] == f"Bearer {fake.token}" for r in streams)
    fake.validate(contract)


async def test_stream_reconnects_after_the_server_closes(fake, slept):
    status = fake.render(fake.new_status(fake.add_account("alice"), "home post"))
    feed = MastodonFeedSource(context(fake), fake.client())
    fake.fail_next(502)
    fake.push_event("user", "update", status)
    posts = await asyncio.wait_for(take(feed.stream(["home"]), 1), timeout=5)
    assert [p.id for p in posts] == [status["id"]]
    assert slept  # it paused before reconnecting


async def test_a_refused_token_ends_the_stream_with_credentials_invalid(fake):
    ctx = context(fake)
    ctx.credentials = {"access_token": "revoked"}
    feed = MastodonFeedSource(ctx, fake.client())
    with pytest.raises(CredentialsInvalid):
        await asyncio.wait_for(take(feed.stream(["public"]), 1), timeout=5)


async def test_a_source_without_a_stream_is_refused(fake):
    feed = MastodonFeedSource(context(fake), fake.client())
    with pytest.raises(PlatformError, match="poll it instead"):
        await take(feed.stream(["user:alice"]), 1)


async def test_a_server_without_streaming_ends_the_stream_at_once_naming_its_answer(contract):
    from app.platforms.base import StreamUnavailable
    from tests.platforms.mastodon.fake_server import FakeMastodon

    fake = FakeMastodon.takahe()  # no streaming API: GET /api/v1/streaming/... answers 404
    feed = MastodonFeedSource(context(fake), fake.client())
    with pytest.raises(StreamUnavailable) as info:
        await asyncio.wait_for(take(feed.stream(["tag:coffee"]), 1), timeout=5)
    assert info.value.status == 404 and info.value.path == "/api/v1/streaming/hashtag"
    assert "social.example has no streaming API" in str(info.value) and "HTTP 404" in str(info.value)
    assert len([ex for ex in fake.exchanges if "/streaming/" in ex.request.url.path]) == 1  # never retried
