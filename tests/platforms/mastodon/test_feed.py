"""Polling: every source kind, tag folding, min_id cursors across pages, handle lookup."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from app.platforms.base import PlatformError, RateLimited
from app.platforms.mastodon.feed import MastodonFeedSource
from app.platforms.mastodon.platform import MastodonPlatform
from app.platforms.mastodon.sources import fold_tags, stream_endpoints
from tests.platforms.mastodon.conftest import context, newest
from tests.platforms.mastodon.fake_server import FakeMastodon, rate_limit_headers


def sent(fake, path_part: str) -> list[httpx.Request]:
    return [ex.request for ex in fake.exchanges if path_part in ex.request.url.path]


async def test_tags_fold_into_one_call_with_any(fake, feed, contract):
    alice = fake.add_account("alice")
    wanted = [fake.new_status(alice, f"post about #{t}")["id"] for t in ("coffee", "Tea")]
    fake.new_status(alice, "nothing to see #beer")
    posts, cursor = await feed.fetch("tags:coffee,#tea", None)
    assert [p.id for p in posts] == wanted and newest(cursor) == wanted[-1]
    (request,) = sent(fake, "/timelines/tag/")
    assert request.url.path == "/api/v1/timelines/tag/coffee"
    assert request.url.params.get_list("any[]") == ["tea"]
    fake.validate(contract)


async def test_more_tags_than_an_instance_takes_is_refused_clearly(feed):
    with pytest.raises(PlatformError, match="5 per source") as info:
        await feed.fetch("tags:a,b,c,d,e,f", None)
    assert info.value.retryable is False


def test_default_sources_fold_rule_hashtags_five_at_a_time():
    platform = MastodonPlatform()
    tags = ["#a", "B", "c", "d", "e", "f", "a"]
    assert platform.default_sources(None, tags) == ["tags:a,b,c,d,e", "tags:f"]
    assert platform.default_sources(None, []) == ["home"]
    assert fold_tags(["  ", "#"]) == []


async def test_a_burst_larger_than_max_pages_is_read_over_several_polls(fake, contract):
    alice = fake.add_account("alice")
    fake.new_status(alice, "start #coffee")
    feed = MastodonFeedSource(context(fake, page_size=2, max_pages=2), fake.client())
    _, cursor = await feed.fetch("tag:coffee", None)
    burst = [fake.new_status(alice, f"burst {i} #coffee")["id"] for i in range(7)]
    first, cursor = await feed.fetch("tag:coffee", cursor)
    second, cursor = await feed.fetch("tag:coffee", cursor)
    third, cursor = await feed.fetch("tag:coffee", cursor)
    assert [p.id for p in first + second + third] == burst  # oldest first, no gap, no repeat
    assert [len(first), len(second), len(third)] == [4, 3, 0]
    assert newest(cursor) == burst[-1]
    fake.validate(contract)


async def test_user_source_resolves_the_handle_once(fake, feed, contract):
    bob = fake.add_account("bob", domain="other.example")
    mine = fake.new_status(bob, "from bob")["id"]
    fake.new_status(fake.add_account("alice"), "not bob's")
    posts, cursor = await feed.fetch("user:@bob@other.example", None)
    assert [p.id for p in posts] == [mine]
    await feed.fetch("user:bob@other.example", cursor)
    assert len(sent(fake, "/accounts/lookup")) == 1
    assert sent(fake, f"/accounts/{bob['id']}/statuses")
    fake.validate(contract)


async def test_unknown_handle_is_a_clear_permanent_error(feed):
    with pytest.raises(PlatformError, match="no account 'nobody'") as info:
        await feed.fetch("user:nobody", None)
    assert info.value.retryable is False


@pytest.mark.parametrize(
    ("source", "path", "params"),
    [
        ("home", "/api/v1/timelines/home", {}),
        ("public", "/api/v1/timelines/public", {}),
        ("local", "/api/v1/timelines/public", {"local": "true"}),
        ("list:7", "/api/v1/timelines/list/7", {}),
    ],
)
async def test_timeline_sources(fake, feed, contract, source, path, params):
    alice = fake.add_account("alice")
    fake.lists["7"] = [alice["id"]]
    post_id = fake.new_status(alice, "hello")["id"]
    posts, _ = await feed.fetch(source, None)
    assert [p.id for p in posts] == [post_id]
    request = fake.exchanges[-1].request
    assert request.url.path == path
    assert {k: v for k, v in request.url.params.items() if k != "limit"} == params
    fake.validate(contract)


async def test_unsupported_sources(feed):
    for source in ("search:coffee", "list:", "home:x", "tag:"):
        with pytest.raises(PlatformError, match="unsupported source"):
            await feed.fetch(source, None)
    with pytest.raises(PlatformError, match="poll it instead"):
        stream_endpoints("user:alice")


async def test_mastodons_own_429_headers_give_the_retry_time(fake, feed):
    fake.fail_next(429, rate_limit_headers(300))
    with pytest.raises(RateLimited) as info:
        await feed.fetch("home", None)
    wait = (info.value.retry_at - datetime.now(UTC)).total_seconds()
    assert 290 < wait <= 300


async def test_a_pagination_link_to_another_host_is_not_followed(fake, feed):
    alice = fake.add_account("alice")
    first = fake.new_status(alice, "one")["id"]
    for i in range(3):
        fake.new_status(alice, f"more {i}")
    original = fake.handle

    def evil_links(request):
        response = original(request)
        response.headers["Link"] = '<https://evil.example/api/v1/timelines/home?min_id=1>; rel="prev"'
        return response

    feed = MastodonFeedSource(context(fake, page_size=2), httpx.AsyncClient(transport=httpx.MockTransport(evil_links)))
    with pytest.raises(PlatformError, match="off the instance"):
        await feed.fetch("home", first)


async def test_the_accounts_own_statuses_are_skipped_but_passed_by(fake, contract):
    alice = fake.add_account("alice")
    fake.new_status(alice, "start #coffee")
    _, cursor = await MastodonFeedSource(context(fake), fake.client()).fetch("tag:coffee", None)
    assert cursor is not None
    theirs = fake.new_status(alice, "a #coffee post")["id"]
    mine = fake.new_status(fake.me, "Worth reading #coffee")["id"]  # e.g. the bot's own quote
    by_id = context(fake)
    by_id.platform_user_id = fake.me["id"]
    by_handle = context(fake)  # handle "reposter_bot@social.example", id unknown
    for ctx in (by_id, by_handle):
        posts, new_cursor = await MastodonFeedSource(ctx, fake.client()).fetch("tag:coffee", cursor)
        assert [p.id for p in posts] == [theirs] and newest(new_cursor) == mine
    fake.validate(contract)


# ---- nothing lost: empty first polls, bursts, servers whose ids or tags differ ----------------
async def read_until_quiet(feed, source: str, cursor: str | None, polls: int = 10) -> tuple[list[str], str | None]:
    """Every post id the next polls return (in order), until a poll returns nothing."""
    seen: list[str] = []
    for _ in range(polls):
        posts, cursor = await feed.fetch(source, cursor)
        if not posts:
            break
        seen += [p.id for p in posts]
    return seen, cursor


async def test_an_empty_first_poll_then_a_burst_of_100_is_read_whole_oldest_first(fake, contract):
    """Seen on a real server: an empty first poll, then 100 statuses, and only the newest 40 kept."""
    feed = MastodonFeedSource(context(fake), fake.client())  # 40 a page, as Mastodon allows
    posts, cursor = await feed.fetch("tag:coffee", None)
    assert posts == [] and cursor is not None
    alice = fake.add_account("alice")
    burst = [fake.new_status(alice, f"burst {i} #coffee")["id"] for i in range(100)]
    posts, cursor = await feed.fetch("tag:coffee", cursor)
    assert [p.id for p in posts] == burst
    later = fake.new_status(alice, "later #coffee")["id"]
    assert [p.id for p in (await feed.fetch("tag:coffee", cursor))[0]] == [later]
    fake.validate(contract)


async def test_an_empty_first_poll_then_a_burst_beyond_max_pages_is_read_over_the_next_polls(fake, contract):
    feed = MastodonFeedSource(context(fake, page_size=2, max_pages=2), fake.client())
    _, cursor = await feed.fetch("home", None)
    alice = fake.add_account("alice")
    burst = [fake.new_status(alice, f"burst {i}")["id"] for i in range(9)]
    first, cursor = await feed.fetch("home", cursor)
    assert len(first) == 4  # max_pages stopped it: the rest is kept for the next polls
    fake.new_status(alice, "meanwhile")
    rest, _ = await read_until_quiet(feed, "home", cursor)
    read = [p.id for p in first] + rest
    assert sorted(read) == sorted([*burst, *[s for s in fake.statuses if s not in burst]])
    assert len(read) == len(set(read))
    fake.validate(contract)


async def test_a_home_timeline_backfilled_with_old_statuses_after_an_empty_start_is_history(fake):
    feed = MastodonFeedSource(context(fake), fake.client())
    _, cursor = await feed.fetch("home", None)
    alice = fake.add_account("alice")
    fake.new_status(alice, "from last week", created_at="2026-01-01T00:00:00.000Z")  # merged in on a follow
    fresh = fake.new_status(alice, "just now")["id"]
    assert [p.id for p in (await feed.fetch("home", cursor))[0]] == [fresh]


async def test_tags_are_read_one_call_each_where_the_instance_ignores_any(contract):
    fake = FakeMastodon.takahe()
    feed = MastodonFeedSource(context(fake, page_size=2), fake.client())
    alice = fake.add_account("alice")
    _, cursor = await feed.fetch("tags:coffee,tea", None)
    coffee = fake.new_status(alice, "a #coffee")["id"]
    tea = fake.new_status(alice, "a #tea")["id"]
    both = fake.new_status(alice, "#coffee and #tea")["id"]
    read, cursor = await read_until_quiet(feed, "tags:coffee,tea", cursor)
    assert sorted(read) == sorted([coffee, tea, both])  # no tag dropped, the one with both once
    paths = [r.url.path for r in sent(fake, "/api/v1/")]
    assert paths.count("/api/v1/instance") == 1  # asked once; the answer is kept in the cursor
    assert "/api/v1/timelines/tag/tea" in paths and not any(r.url.params.get_list("any[]") for r in sent(fake, "/tag/"))
    fake.validate(contract)


def test_which_versions_take_any():
    from app.platforms.mastodon.sources import any_supported

    assert any_supported("4.3.2") and any_supported("4.2.0+glitch")
    for other in ("takahe/0.11.0", "0.16.0", "2.7.2 (compatible; Pleroma 2.6.0)", "", None):
        assert not any_supported(other)


async def test_a_server_whose_ids_are_a_second_plus_a_hash_loses_nothing(contract):
    fake = FakeMastodon(opaque_ids=True)
    feed = MastodonFeedSource(context(fake, page_size=2), fake.client())
    alice = fake.add_account("alice")
    fake.new_status(alice, "first #coffee")
    _, cursor = await feed.fetch("tag:coffee", None)
    burst = [fake.new_status(alice, f"same second {i} #coffee")["id"] for i in range(6)]
    read, _ = await read_until_quiet(feed, "tag:coffee", cursor)
    assert read == burst  # in the server's order, though the ids do not sort that way
    fake.validate(contract)


async def test_a_timeline_in_delivery_order_loses_a_status_delivered_late(contract):
    fake = FakeMastodon(delivery_order=True)
    feed = MastodonFeedSource(context(fake, page_size=2), fake.client())
    alice = fake.add_account("alice")
    newest = fake.new_status(alice, "first #coffee")["id"]
    _, cursor = await feed.fetch("tag:coffee", None)
    late = fake.deliver_late(alice, "made earlier, delivered now #coffee", before=newest)["id"]
    after = fake.new_status(alice, "after #coffee")["id"]
    read, cursor = await read_until_quiet(feed, "tag:coffee", cursor)
    assert read == [late, after]
    assert (await feed.fetch("tag:coffee", cursor))[0] == []  # and never twice
    fake.validate(contract)


async def test_a_bare_id_cursor_from_before_is_the_servers_min_id(fake):
    alice = fake.add_account("alice")
    start = fake.new_status(alice, "start #coffee")["id"]
    after = fake.new_status(alice, "after #coffee")["id"]
    posts, cursor = await MastodonFeedSource(context(fake), fake.client()).fetch("tag:coffee", start)
    assert [p.id for p in posts] == [after] and newest(cursor) == after
