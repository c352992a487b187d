"""The filtered stream: parsing its newline-delimited JSON, and stream() end to end on the fake."""

import json
import time
from datetime import UTC, datetime

import httpx
import pytest

from app.platforms.base import ActionRefused, CredentialsInvalid, PlatformError, RateLimited
from app.platforms.x.stream import StreamBackoff, parse_stream_line
from tests.platforms.x.fake import Break

LINE = {
    "data": {
        "id": "1790000000000000001",
        "text": "@bob a #coffee reply",
        "author_id": "2001",
        "created_at": "2026-03-01T10:00:00.000Z",
        "lang": "en",
        "in_reply_to_user_id": "2003",
        "referenced_tweets": [{"type": "replied_to", "id": "1790000000000000000"}],
        "entities": {"hashtags": [{"start": 7, "end": 14, "tag": "coffee"}]},
        "edit_history_tweet_ids": ["1790000000000000001"],
    },
    "includes": {
        "users": [
            {"id": "2001", "username": "coffee_lover", "name": "CL"},
            {"id": "2003", "username": "bob", "name": "Bob"},
        ]
    },
    "matching_rules": [{"id": "1234567890", "tag": "reposter"}],
}


def test_a_post_line():
    event = parse_stream_line(json.dumps(LINE) + "\r\n")
    assert event.rule_ids == ["1234567890"]
    post = event.post
    assert post.id == "1790000000000000001" and post.author.handle == "coffee_lover"
    assert post.is_reply and post.reply_to_author == "bob" and post.hashtags == ["coffee"]


def test_keep_alives_and_noise_are_skipped():
    assert parse_stream_line("\r\n") is None
    assert parse_stream_line(b"") is None
    assert parse_stream_line("{not json") is None
    assert parse_stream_line("[1, 2]") is None


def test_a_disconnect_message_raises_a_retryable_error():
    line = {
        "errors": [
            {
                "title": "operational-disconnect",
                "disconnect_type": "UpstreamOperationalDisconnect",
                "detail": "This stream has been disconnected upstream for operational reasons.",
                "type": "https://api.x.com/2/problems/operational-disconnect",
            }
        ]
    }
    with pytest.raises(PlatformError, match="operational-disconnect") as info:
        parse_stream_line(json.dumps(line))
    assert info.value.retryable


def test_partial_errors_beside_a_post_are_ignored():
    line = {**LINE, "errors": [{"title": "Not Found Error", "detail": "referenced post gone"}]}
    assert parse_stream_line(json.dumps(line)).post.id == LINE["data"]["id"]


async def _stream(h, sources, *, take=None, **credentials):
    """Up to `take` posts from stream() (all of them until it raises, with take=None)."""
    posts = []
    async with h.http() as http:
        feed = h.platform.feed_source(h.context(**credentials), http)
        async for post in feed.stream(sources):
            posts.append(post)
            if len(posts) == take:
                break
    return posts


async def test_stream_syncs_rules_then_yields_only_this_accounts_posts(hx):
    hx.fake.rules["77"] = {"id": "77", "value": "#tea", "tag": "reposter"}  # another account's rule
    mine, theirs = hx.add_post("reply"), hx.fake.add_tweet("2002", "green #tea")
    hx.fake.stream_connections = [
        ["", hx.fake.stream_post(theirs, ["#tea"]), "", hx.fake.stream_post(mine, ["#coffee"])]
    ]
    posts = await _stream(hx, ["tag:coffee", "home"], take=1)
    assert [p.id for p in posts] == [mine]
    assert posts[0].is_reply and posts[0].reply_to_author == "bob" and posts[0].author.handle == "coffee_lover"
    assert sorted(r["value"] for r in hx.fake.rules.values()) == ["#coffee", "#tea"]
    stream_request = hx.requests[-1]
    assert stream_request.url.path == "/2/tweets/search/stream"
    assert stream_request.headers["authorization"] == "Bearer app-bearer-token"
    hx.validate_requests()


async def test_stream_reconnects_as_x_asks(hx, no_sleep):
    first, second, third = (hx.add_post("plain") for _ in range(3))
    line = lambda pid: hx.fake.stream_post(pid, ["#coffee"])  # noqa: E731 - a one-line fixture read like data
    reset = int(time.time()) + 5
    disconnect = json.dumps({"errors": [{"title": "operational-disconnect"}]})
    hx.fake.stream_connections = [
        (503, {}),
        (503, {}),
        ["", line(first)],  # then X closes it: reconnect at once
        (429, {"x-rate-limit-reset": str(reset)}),
        [line(second), disconnect],
        Break([""], httpx.ReadTimeout("stalled")),
        Break([], httpx.ConnectError("connection reset")),
        [line(third)],
    ]
    posts = await _stream(hx, ["tag:coffee"], take=3)
    assert [p.id for p in posts] == [first, second, third]
    assert no_sleep == [5.0, 10.0, 0.0, 60.0, 0.0, 0.0, 0.25]
    assert sum(r.url.path == "/2/tweets/search/stream" for r in hx.requests) == 8


async def test_stream_gives_up_after_max_failures(hx, no_sleep):
    hx.fake.stream_connections = [(503, {})] * 4
    async with hx.http() as http:
        ctx = hx.context()
        ctx.config["stream_max_failures"] = 2
        with pytest.raises(PlatformError) as info:
            [post async for post in hx.platform.feed_source(ctx, http).stream(["tag:coffee"])]
    assert info.value.status == 503 and no_sleep == [5.0, 10.0]


async def test_a_429_waits_at_least_until_xs_reset(hx, no_sleep):
    pid = hx.add_post("plain")
    hx.fake.stream_connections = [
        (429, {"x-rate-limit-reset": str(int(time.time()) + 600)}),
        [hx.fake.stream_post(pid, ["#coffee"])],
    ]
    await _stream(hx, ["tag:coffee"], take=1)
    assert 590 < no_sleep[0] <= 600


async def test_stream_needs_the_apps_bearer_token(hx):
    with pytest.raises(ActionRefused, match="bearer_token"):
        await _stream(hx, ["tag:coffee"], bearer_token=None)


async def test_stream_needs_a_source_that_translates(hx):
    with pytest.raises(PlatformError, match="stream rule"):
        await _stream(hx, ["home", "search:#a is:bot"])
    assert hx.requests == []


async def test_a_refused_app_token_ends_the_stream(hx, no_sleep):
    hx.fake.stream_connections = [(403, {})]
    with pytest.raises(CredentialsInvalid):
        await _stream(hx, ["tag:coffee"])
    assert no_sleep == []


def test_backoff_schedule_follows_xs_documentation():
    backoff = StreamBackoff(max_failures=100)
    network = [backoff.next_delay(PlatformError("x: reset"), False) for _ in range(70)]
    assert network[:3] == [0.25, 0.5, 0.75] and network[-1] == 16.0
    backoff = StreamBackoff(max_failures=100)
    http = [backoff.next_delay(PlatformError("x: 503", status=503), False) for _ in range(8)]
    assert http == [5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0, 320.0]
    assert backoff.next_delay(None, True) == 0.0 and backoff.failures == 0
    limited = RateLimited("x: 429", retry_at=datetime.now(UTC))
    assert [backoff.next_delay(limited, False) for _ in range(3)] == [60.0, 120.0, 240.0]


@pytest.mark.parametrize("status", [404, 410, 501])
async def test_a_stream_the_server_does_not_offer_ends_at_once_as_unavailable(hx, no_sleep, status):
    from app.platforms.base import StreamUnavailable

    hx.fake.stream_connections = [(status, {})] * 3
    with pytest.raises(StreamUnavailable) as info:
        await _stream(hx, ["tag:coffee"])
    assert info.value.status == status and info.value.path == "/2/tweets/search/stream"
    assert no_sleep == [] and len(hx.fake.stream_connections) == 2  # one attempt, no retries
