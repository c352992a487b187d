"""One contract, every platform: fetch, cursors, pagination, normalization, actions, errors."""

from datetime import UTC, datetime, timedelta

import pytest

from app.platforms.base import CredentialsInvalid, PlatformError, Post, RateLimited


async def _clients(h):
    http = h.http()
    ctx = h.context()
    return h.platform.feed_source(ctx, http), h.platform.action_client(ctx, http)


async def _fetch_all(feed, source, cursor):
    posts, cursor = await feed.fetch(source, cursor)
    return posts, cursor


async def test_fetch_without_cursor_returns_recent_posts_oldest_first(harness):
    first = harness.add_post("plain", text="first #coffee")
    second = harness.add_post("plain", text="second #coffee")
    feed, _ = await _clients(harness)
    posts, cursor = await feed.fetch(harness.source, None)
    ids = [p.id for p in posts]
    assert ids[-1] == second and first in ids
    assert ids.index(first) < ids.index(second)
    assert cursor is not None
    harness.validate_requests()


async def test_fetch_with_cursor_returns_only_newer_posts(harness):
    harness.add_post("plain", text="old #coffee")
    feed, _ = await _clients(harness)
    _, cursor = await feed.fetch(harness.source, None)
    assert await feed.fetch(harness.source, cursor) == ([], cursor)
    new = harness.add_post("plain", text="new #coffee")
    posts, cursor2 = await feed.fetch(harness.source, cursor)
    assert [p.id for p in posts] == [new]
    assert cursor2 != cursor
    harness.validate_requests()


async def test_fetch_follows_pagination_so_nothing_is_missed(harness):
    harness.add_post("plain", text="start #coffee")
    feed, _ = await _clients(harness)
    _, cursor = await feed.fetch(harness.source, None)
    added = [harness.add_post("plain", text=f"burst {i} #coffee") for i in range(5)]
    posts, _ = await feed.fetch(harness.source, cursor)
    assert [p.id for p in posts] == added  # page_size is 2: three pages
    harness.validate_requests()


async def _one(harness, kind, **kw) -> Post:
    pid = harness.add_post(kind, **kw)
    feed, _ = await _clients(harness)
    posts, _ = await feed.fetch(harness.source, None)
    return next(p for p in posts if p.id == pid)


async def test_normalizes_a_plain_post(harness):
    post = await _one(harness, "plain", text="Good morning #coffee @alice")
    assert post.platform == harness.name
    assert "coffee" in [t.lower() for t in post.hashtags]
    assert "alice" in [m.lower().split("@")[0] for m in post.mentions]
    assert post.author.handle and post.author.id
    assert post.created_at is not None and post.created_at.tzinfo is not None
    assert post.is_reply is False and post.is_quote is False
    assert post.url


async def test_normalizes_a_reply(harness):
    post = await _one(harness, "reply")
    assert post.is_reply is True
    assert post.reply_to_author is None or post.reply_to_author.lower().startswith("bob")


async def test_normalizes_a_repost(harness):
    post = await _one(harness, "repost")
    assert post.is_repost is True
    assert post.reposted_author is not None and post.reposted_author.id  # blocks and opt-outs apply to them


async def test_normalizes_a_quote(harness):
    post = await _one(harness, "quote")
    assert post.is_quote is True
    assert post.quoted_post_id


async def test_normalizes_media_and_links(harness):
    post = await _one(harness, "media_links")
    assert post.media_count and post.media_count >= 1
    assert any("example.com" in u for u in post.urls)


async def test_repost_then_undo(harness):
    post = await _one(harness, "plain")
    _, client = await _clients(harness)
    action_id = await client.repost(post)
    assert action_id
    assert harness.is_reposted(post.id)
    assert await client.has_reposted(post) in (True, None)
    await client.undo(post, action_id)
    assert not harness.is_reposted(post.id)
    harness.validate_requests()


async def test_quote_publishes_a_new_post(harness):
    post = await _one(harness, "plain")
    _, client = await _clients(harness)
    new_id = await client.quote(post, "Worth reading")
    assert new_id and new_id != post.id
    harness.validate_requests()


async def test_reply_answers_a_post_and_is_found_again(harness):
    """The "stop" reply: one post in the mention's thread, found again by find_own (how a lost answer is
    settled), deleted by undo."""
    post = await _one(harness, "plain")
    _, client = await _clients(harness)
    assert await client.find_own(post, "reply") is None
    reply_id = await client.reply(post, "OK, I won't repost your posts any more.")
    assert reply_id and reply_id != post.id
    assert await client.find_own(post, "reply") == reply_id
    await client.undo(post, reply_id, "reply")
    assert await client.find_own(post, "reply") is None
    harness.validate_requests()


async def test_followers(harness):
    harness.set_followers(["carol", "dave"])
    _, client = await _clients(harness)
    followers = await client.followers()
    assert {"carol", "dave"} <= {f.lower().split(".")[0] for f in followers}
    harness.validate_requests()


async def test_long_429_raises_rate_limited_with_the_retry_time(harness):
    post = await _one(harness, "plain")
    _, client = await _clients(harness)
    harness.fail_next(429, {"Retry-After": "120"})
    with pytest.raises(RateLimited) as info:
        await client.repost(post)
    expected = datetime.now(UTC) + timedelta(seconds=120)
    assert abs((info.value.retry_at - expected).total_seconds()) < 5


async def test_short_429_is_waited_out(harness):
    post = await _one(harness, "plain")
    _, client = await _clients(harness)
    harness.fail_next(429, {"Retry-After": "1"})
    assert await client.repost(post)
    assert harness.slept and 0 < harness.slept[-1] <= 1.5


async def test_500_then_success_is_retried(harness):
    harness.add_post("plain")
    feed, _ = await _clients(harness)
    harness.fail_next(500)
    posts, _ = await feed.fetch(harness.source, None)
    assert posts
    assert harness.slept


async def test_an_exhausted_retry_raises_without_a_pause_after_the_last_try(harness):
    harness.add_post("plain")
    feed, _ = await _clients(harness)
    harness.fail_next(503, times=10)
    with pytest.raises(PlatformError) as info:
        await feed.fetch(harness.source, None)
    assert info.value.status == 503
    assert harness.slept == [0.5, 1.0]  # three tries, a pause between each two, none after the last


@pytest.mark.parametrize("make", ["feed_source", "action_client"])
async def test_a_config_that_does_not_fit_is_a_platform_error(harness, make):
    ctx = harness.context()
    ctx.config = {**ctx.config, "page_size": 0}
    with pytest.raises(PlatformError, match=r"invalid account config .*page_size"):
        getattr(harness.platform, make)(ctx, harness.http())


async def test_401_means_credentials_need_attention(harness):
    harness.add_post("plain")
    feed, _ = await _clients(harness)
    harness.fail_next(401, times=5)
    with pytest.raises(CredentialsInvalid):
        await feed.fetch(harness.source, None)


async def test_no_credential_ever_reaches_the_logs(harness, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    harness.set_followers(["carol"])
    post = await _one(harness, "plain")
    feed, client = await _clients(harness)
    await feed.fetch(harness.source, None)
    await client.repost(post)
    await client.followers()
    harness.fail_next(401, times=5)
    with pytest.raises(CredentialsInvalid):
        await feed.fetch(harness.source, None)
    secrets = [v for v in harness.context().credentials.values() if isinstance(v, str) and len(v) >= 8]
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert caplog.records or harness.name == "mock"
    for secret in secrets:
        assert secret not in logged
