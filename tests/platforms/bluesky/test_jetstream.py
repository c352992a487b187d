"""Bluesky's Jetstream: events parsed into posts, resuming, a server without it, the filter."""

from __future__ import annotations

import json
from contextlib import asynccontextmanager

import pytest

from app.platforms.base import PlatformError
from app.platforms.bluesky.jetstream import (
    JetstreamReader,
    StreamFilter,
    parse_event,
    subscribe_url,
)
from tests.platforms.bluesky.recorded import FIXTURES
from tests.platforms.harness_bluesky import BlueskyHarness, did_for
from tests.platforms.lexicon_check import lexicons

# ---- Jetstream ---------------------------------------------------------------------------
EVENTS = json.loads((FIXTURES / "jetstream_events.json").read_text())


def test_jetstream_events_parse_into_posts():
    handles: dict[str, str] = {}
    parsed = [parse_event(json.dumps(e), handles) for e in EVENTS]
    assert [t for t, _ in parsed] == [e["time_us"] for e in EVENTS]
    assert handles == {did_for("writer"): "writer.bsky.social"}
    post = parsed[1][1]
    assert post.id == f"at://{did_for('writer')}/app.bsky.feed.post/3lbh2b7gd4c2a"
    assert post.author.handle == "writer.bsky.social" and post.author.id == did_for("writer")
    assert post.hashtags == ["Espresso"] and post.urls == ["https://example.com/bar"] and post.lang == "it"
    assert post.mentions == [did_for("reposterbot"), "reposterbot.bsky.social"]
    assert post.ref["time_us"] == "1732240000100000" and post.ref["cid"].startswith("bafyrei")
    assert parsed[2][1] is None and parsed[4][1] is None  # a delete and an account event
    reply = parsed[3][1]
    assert reply.author.handle == did_for("carol") and reply.is_reply and reply.reply_to_author == did_for("bob")
    assert parse_event("{not json", handles) == (None, None)
    for event in EVENTS:
        if event["kind"] == "commit" and "record" in event["commit"]:
            assert not lexicons().check_record("app.bsky.feed.post", event["commit"]["record"])


class FakeSocket:
    """Plays a list of messages, then fails like a dropped connection (or ends cleanly)."""

    def __init__(self, messages, error: Exception | None):
        self.messages, self.error = messages, error

    def __aiter__(self):
        return self._run()

    async def _run(self):
        for message in self.messages:
            yield json.dumps(message)
        if self.error:
            raise self.error


def fake_connect(sessions):
    urls: list[str] = []

    @asynccontextmanager
    async def connect(url):
        urls.append(url)
        if not sessions:
            raise OSError("no route")
        yield sessions.pop(0)

    return connect, urls


async def test_jetstream_resumes_a_little_before_the_last_event_and_drops_replays():
    posts = [e for e in EVENTS if e["kind"] == "commit" and e["commit"]["operation"] == "create"]
    sessions = [FakeSocket(EVENTS[:3], ConnectionResetError()), FakeSocket(EVENTS[1:], None)]
    connect, urls = fake_connect(sessions)
    slept: list[float] = []

    async def sleep(seconds):
        slept.append(seconds)

    reader = JetstreamReader(
        "wss://jet.test/subscribe",
        StreamFilter(everything=True),
        connect=connect,
        cursor_us=None,
        rewind_us=2_000_000,
        sleep=sleep,
        max_reconnects=2,
    )
    got = []
    with pytest.raises(PlatformError):
        async for post in reader.posts():
            got.append(post.id)
    assert got == [f"at://{p['did']}/app.bsky.feed.post/{p['commit']['rkey']}" for p in posts]
    assert "cursor" not in urls[0] and "wantedCollections=app.bsky.feed.post" in urls[0]
    assert f"cursor={EVENTS[2]['time_us'] - 2_000_000}" in urls[1]
    assert f"cursor={EVENTS[-1]['time_us'] - 2_000_000}" in urls[2]
    assert reader.cursor_us == EVENTS[-1]["time_us"] and slept == [
        1.0,
        1.0,
        2.0,
    ]  # backoff resets after a working connection


async def test_a_server_without_jetstream_ends_the_stream_at_once():
    from websockets.datastructures import Headers
    from websockets.exceptions import InvalidStatus
    from websockets.http11 import Response

    from app.platforms.base import StreamUnavailable

    attempts: list[str] = []

    @asynccontextmanager
    async def connect(url):
        attempts.append(url)
        raise InvalidStatus(Response(404, "Not Found", Headers()))
        yield  # pragma: no cover

    slept: list[float] = []

    async def sleep(seconds):
        slept.append(seconds)

    reader = JetstreamReader("wss://jet.test/subscribe", StreamFilter(everything=True), connect=connect, sleep=sleep)
    with pytest.raises(StreamUnavailable) as info:
        async for _ in reader.posts():
            pass
    assert info.value.status == 404 and info.value.path == "/subscribe"
    assert "jet.test has no Jetstream" in str(info.value)
    assert len(attempts) == 1 and slept == []


def test_stream_filter_and_subscribe_url():
    handles: dict[str, str] = {}
    post = parse_event(json.dumps(EVENTS[1]), handles)[1]
    assert StreamFilter(tags={"espresso"}).matches(post)
    assert StreamFilter(queries=[{"caffè", "#espresso"}]).matches(post)
    assert not StreamFilter(queries=[{"tea"}]).matches(post)
    people = StreamFilter(dids={did_for("writer")})
    assert people.matches(post) and people.wanted_dids() == {did_for("writer")}
    assert StreamFilter(tags={"x"}, dids={did_for("writer")}).wanted_dids() is None
    url = subscribe_url("wss://jet.test/subscribe", cursor_us=5, dids={"did:plc:b", "did:plc:a"})
    assert (
        url
        == "wss://jet.test/subscribe?wantedCollections=app.bsky.feed.post&wantedDids=did%3Aplc%3Aa&wantedDids=did%3Aplc%3Ab&cursor=5"
    )


async def test_feed_source_stream_resolves_people_and_names_authors():
    h = BlueskyHarness()
    connect, urls = fake_connect([FakeSocket(EVENTS[1:], None)])
    h.platform.websocket_connect = connect
    feed = h.platform.feed_source(h.context(jetstream_url="wss://jet.test/subscribe"), h.http())
    stream = feed.stream(["user:writer.bsky.social"])
    post = await anext(stream)
    await stream.aclose()
    assert post.author.handle == "writer.bsky.social" and post.author.followers_count == 106
    assert "wantedDids=did%3Aplc%3Awriter" in urls[0] and feed.stream_cursor == EVENTS[1]["time_us"]
    h.validate_requests()
