"""Bluesky feeds: every source kind runs the contract's feed tests; the cursor misses nothing and repeats nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.platforms.base import PlatformError
from app.platforms.bluesky.cursor import FeedCursor, Item, key_hash
from app.platforms.bluesky.feed import parse_source
from tests.platforms import test_contract as contract
from tests.platforms.bluesky.recorded import LIST_URI, params_of
from tests.platforms.harness_bluesky import BlueskyHarness, facets_for

# ---- every source kind runs the contract's feed tests ---------------------------------------
SOURCES = ["tag:coffee", "search:coffee", "user:writer.bsky.social", f"list:{LIST_URI}"]
FEED_TESTS = [
    contract.test_fetch_without_cursor_returns_recent_posts_oldest_first,
    contract.test_fetch_with_cursor_returns_only_newer_posts,
    contract.test_fetch_follows_pagination_so_nothing_is_missed,
    contract.test_normalizes_a_plain_post,
    contract.test_normalizes_a_reply,
    contract.test_normalizes_a_quote,
    contract.test_normalizes_media_and_links,
]


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("check", FEED_TESTS, ids=lambda f: f.__name__.removeprefix("test_"))
async def test_contract_feed_tests_hold_for_every_source(source, check):
    h = BlueskyHarness(source)
    await check(h)
    h.validate_requests()


@pytest.mark.parametrize("source", ["user:writer.bsky.social", f"list:{LIST_URI}"])
async def test_reposts_show_in_author_and_list_feeds(source):
    await contract.test_normalizes_a_repost(BlueskyHarness(source))


async def test_tag_source_uses_the_tag_parameter_and_since_after_the_first_poll():
    h = BlueskyHarness("tag:#Coffee")
    h.add_post("plain")
    feed = h.platform.feed_source(h.context(), h.http())
    _, cursor = await feed.fetch(h.source, None)
    await feed.fetch(h.source, cursor)
    first, second = params_of(h, "searchPosts")
    assert first["q"] == ["#Coffee"] and first["tag"] == ["Coffee"] and first["sort"] == ["latest"]
    assert "since" not in first and second["since"][0].endswith("Z")
    h.validate_requests()


def test_unsupported_sources_are_refused():
    for bad in ("public", "tags:a,b", "tag:", "user:"):
        with pytest.raises(PlatformError) as info:
            parse_source(bad)
        assert info.value.retryable is False
    assert parse_source("home").kind == "home"


# ---- the cursor: nothing missed, nothing twice ---------------------------------------------
async def test_a_post_at_the_same_instant_as_the_newest_seen_is_not_lost():
    h = BlueskyHarness("tag:coffee")
    first = h.add_post("plain")
    feed = h.platform.feed_source(h.context(), h.http())
    posts, cursor = await feed.fetch(h.source, None)
    assert [p.id for p in posts] == [first]
    h.server.clock -= timedelta(seconds=1)  # the next post shares the newest instant
    twin = h.add_post("plain", text="twin #coffee")
    posts, _ = await feed.fetch(h.source, cursor)
    assert [p.id for p in posts] == [twin]


@pytest.mark.parametrize("overlap, caught", [(30, True), (0, False)])
async def test_late_indexed_posts_are_caught_within_the_overlap(overlap, caught):
    h = BlueskyHarness("tag:coffee")
    h.add_post("plain")
    feed = h.platform.feed_source(h.context(overlap_seconds=overlap), h.http())
    _, cursor = await feed.fetch(h.source, None)
    h.server.clock -= timedelta(seconds=10)  # created 9 s before the newest, indexed just now
    late = h.server.publish("writer", {"text": "late #coffee", "facets": facets_for("late #coffee")}, indexed_delay=12)
    posts, _ = await feed.fetch(h.source, cursor)
    assert ([p.id for p in posts] == [late]) is caught


@pytest.mark.parametrize("source", ["home", "tag:coffee"])
async def test_a_burst_beyond_max_pages_is_read_over_the_next_polls(source):
    h = BlueskyHarness(source)
    h.add_post("plain")
    feed = h.platform.feed_source(h.context(max_pages=3), h.http())
    _, cursor = await feed.fetch(h.source, None)
    burst = [h.add_post("plain", text=f"burst {i} #coffee") for i in range(15)]
    seen: list[str] = []
    for _ in range(4):
        posts, cursor = await feed.fetch(h.source, cursor)
        seen += [p.id for p in posts]
    assert sorted(seen) == sorted(burst) and len(seen) == len(set(seen))
    assert FeedCursor.decode(cursor).gaps == []
    h.validate_requests()


@pytest.mark.parametrize("source", ["home", "tag:coffee", "user:writer.bsky.social"])
async def test_an_empty_first_poll_then_a_burst_beyond_a_page_is_read_whole(source):
    h = BlueskyHarness(source)
    feed = h.platform.feed_source(h.context(max_pages=3), h.http())
    posts, cursor = await feed.fetch(h.source, None)
    assert posts == [] and cursor is not None
    burst = [h.add_post("plain", text=f"burst {i} #coffee") for i in range(15)]
    seen: list[str] = []
    for _ in range(4):
        posts, cursor = await feed.fetch(h.source, cursor)
        seen += [p.id for p in posts]
    assert sorted(seen) == sorted(burst) and len(seen) == len(set(seen))
    h.validate_requests()


async def test_posts_arriving_while_a_gap_is_read_are_not_lost():
    h = BlueskyHarness("home")
    h.add_post("plain")
    feed = h.platform.feed_source(h.context(max_pages=2), h.http())
    _, cursor = await feed.fetch(h.source, None)
    burst = [h.add_post("plain", text=f"b{i} #coffee") for i in range(8)]
    posts, cursor = await feed.fetch(h.source, cursor)
    seen = [p.id for p in posts]
    assert len(seen) == 4 and FeedCursor.decode(cursor).gaps
    later = h.add_post("plain", text="later #coffee")
    for _ in range(4):
        posts, cursor = await feed.fetch(h.source, cursor)
        seen += [p.id for p in posts]
    assert sorted(seen) == sorted([*burst, later]) and len(seen) == len(set(seen))


def test_cursor_encoding_is_stable_and_bounded():
    items = [Item(f"at://did:plc:x/app.bsky.feed.post/{i}", 1_000_000 + i, None) for i in range(3000)]
    cursor = FeedCursor.start(items, datetime.now(UTC), overlap_ms=10_000_000)
    assert len(cursor.seen) == 2000 and key_hash(items[-1].key) in cursor.seen
    assert FeedCursor.decode(cursor.encode()).encode() == cursor.encode()
    assert FeedCursor.decode("not json") is None and FeedCursor.decode(None) is None


async def test_an_unreadable_cursor_starts_over_with_the_latest_page():
    h = BlueskyHarness("home")
    newest = h.add_post("plain")
    feed = h.platform.feed_source(h.context(), h.http())
    posts, cursor = await feed.fetch(h.source, "garbage")
    assert [p.id for p in posts][-1] == newest and FeedCursor.decode(cursor)
