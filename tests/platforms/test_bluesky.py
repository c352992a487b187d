"""Bluesky specifics: every source kind, the cursor, the session, connect, actions,
normalization, Jetstream, and the lexicon checker itself."""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from app.platforms.base import ActionRefused, CredentialsInvalid, PlatformError, PostGone, RateLimited
from app.platforms.bluesky.cursor import FeedCursor, Item, key_hash
from app.platforms.bluesky.feed import parse_source
from app.platforms.bluesky.jetstream import JetstreamReader, StreamFilter, parse_event, subscribe_url
from app.platforms.bluesky.normalize import post_from_record, post_from_view
from app.platforms.bluesky.platform import BlueskyPlatform
from app.platforms.bluesky.xrpc import is_expiring
from app.platforms.http import RetryPolicy
from tests.platforms import test_contract as contract
from tests.platforms.harness_bluesky import (
    IMAGE,
    PASSWORD,
    BlueskyHarness,
    did_for,
    facets_for,
    fake_jwt,
    strong_ref,
)
from tests.platforms.lexicon_check import lexicons

FIXTURES = Path(__file__).parent / "fixtures" / "bluesky"
LIST_URI = f"at://{did_for('reposterbot')}/app.bsky.graph.list/3kcurated2222"


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    """Retries never really sleep."""

    async def fake_sleep(seconds: float) -> None:
        return None

    monkeypatch.setattr(RetryPolicy, "sleep", staticmethod(fake_sleep))


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


# ---- the session: reused, refreshed, re-created only when the refresh fails -------------
async def test_the_session_is_reused_across_polls_and_clients():
    h = BlueskyHarness()
    h.add_post("plain")
    ctx = h.context()
    for _ in range(3):
        await h.platform.feed_source(ctx, h.http()).fetch(h.source, None)
    await h.platform.action_client(ctx, h.http()).followers()
    assert h.server.logins == 0 and h.server.refreshes == 0 and h.saved == []


async def test_an_access_token_past_its_exp_is_refreshed_before_the_call():
    h = BlueskyHarness()
    h.add_post("plain")
    stale = fake_jwt(h.server.me, time.time() - 5)
    h.server.access.add(stale)
    h.credentials["access_jwt"] = stale
    ctx = h.context()
    await h.platform.feed_source(ctx, h.http()).fetch(h.source, None)
    assert h.server.refreshes == 1 and h.server.logins == 0
    assert nsids(h)[0] == "com.atproto.server.refreshSession"
    saved = h.saved[-1]
    assert saved["access_jwt"] != stale and saved["refresh_jwt"] != h.credentials["refresh_jwt"]
    assert saved["app_password"] == PASSWORD and ctx.credentials == saved
    h.validate_requests()


async def test_an_expired_token_answer_is_refreshed_and_the_call_resent():
    h = BlueskyHarness()
    h.add_post("plain")
    h.server.expired.add(h.credentials["access_jwt"])
    posts, _ = await h.platform.feed_source(h.context(), h.http()).fetch(h.source, None)
    assert posts and h.server.refreshes == 1 and h.server.logins == 0
    assert nsids(h)[:3] == [
        "app.bsky.feed.getTimeline",
        "com.atproto.server.refreshSession",
        "app.bsky.feed.getTimeline",
    ]


async def test_a_refused_refresh_logs_in_again_once():
    h = BlueskyHarness()
    h.add_post("plain")
    h.server.expired.add(h.credentials["access_jwt"])
    h.server.refresh.clear()  # the refresh token was revoked
    ctx = h.context()
    feed = h.platform.feed_source(ctx, h.http())
    await feed.fetch(h.source, None)
    await feed.fetch(h.source, None)
    assert h.server.logins == 1 and h.server.refreshes == 0
    assert bodies_of(h, "createSession") == [{"identifier": "reposterbot.bsky.social", "password": PASSWORD}]
    h.validate_requests()


async def test_no_session_yet_means_one_login_then_reuse():
    h = BlueskyHarness()
    h.add_post("plain")
    h.credentials = {"identifier": "reposterbot.bsky.social", "app_password": PASSWORD}
    ctx = h.context()
    await h.platform.feed_source(ctx, h.http()).fetch(h.source, None)
    await h.platform.action_client(ctx, h.http()).following()
    assert h.server.logins == 1 and set(ctx.credentials) >= {"access_jwt", "refresh_jwt", "did"}


async def test_concurrent_calls_renew_the_session_once():
    h = BlueskyHarness()
    h.add_post("plain")
    h.server.expired.add(h.credentials["access_jwt"])
    ctx = h.context()
    await asyncio.gather(*(h.platform.feed_source(ctx, h.http()).fetch(h.source, None) for _ in range(5)))
    assert h.server.refreshes == 1 and h.server.logins == 0


async def test_a_wrong_app_password_means_credentials_invalid():
    h = BlueskyHarness()
    h.credentials = {"identifier": "reposterbot.bsky.social", "app_password": "wrong"}
    with pytest.raises(CredentialsInvalid):
        await h.platform.feed_source(h.context(), h.http()).fetch("home", None)
    with pytest.raises(CredentialsInvalid):
        await h.platform.connect(h.context(), h.http())


def test_jwt_expiry_is_read_from_the_token():
    assert is_expiring(fake_jwt("did:plc:x", time.time() + 30)) and not is_expiring(
        fake_jwt("did:plc:x", time.time() + 3600)
    )
    assert is_expiring(None) and not is_expiring("opaque-token-without-claims")


# ---- connect: session, and the bot self-label on the profile -----------------------------
async def test_connect_logs_in_and_adds_the_bot_label_keeping_the_profile():
    h = BlueskyHarness()
    profile = {
        "$type": "app.bsky.actor.profile",
        "displayName": "Coffee Bot",
        "description": "I repost #coffee",
        "avatar": IMAGE,
        "labels": {"$type": "com.atproto.label.defs#selfLabels", "values": [{"val": "graphic-media"}]},
    }
    h.server.records[("app.bsky.actor.profile", "self")] = profile
    ctx = h.context()
    account = await h.platform.connect(ctx, h.http())
    assert (account.platform_user_id, account.handle, account.display_name) == (
        h.server.me,
        "reposterbot.bsky.social",
        "Coffee Bot",
    )
    stored = h.server.records[("app.bsky.actor.profile", "self")]
    assert [v["val"] for v in stored["labels"]["values"]] == ["graphic-media", "bot"]
    assert {k: stored[k] for k in ("displayName", "description", "avatar")} == {
        k: profile[k] for k in ("displayName", "description", "avatar")
    }
    assert bodies_of(h, "putRecord")[0]["swapRecord"]  # compare-and-swap on the old record
    assert h.server.logins == 1 and ctx.credentials["did"] == h.server.me
    h.validate_requests()


async def test_connect_twice_writes_the_label_once_and_creates_a_missing_profile():
    h = BlueskyHarness()
    await h.platform.connect(h.context(), h.http())
    await h.platform.connect(h.context(), h.http())
    assert len(bodies_of(h, "putRecord")) == 1 and "swapRecord" not in bodies_of(h, "putRecord")[0]
    assert h.server.records[("app.bsky.actor.profile", "self")]["labels"]["values"] == [{"val": "bot"}]
    h.validate_requests()


async def test_a_refused_bot_label_still_connects_with_a_warning():
    h = BlueskyHarness()
    h.server.refuse_profile_writes = True
    account = await h.platform.connect(h.context(), h.http())
    assert account.platform_user_id == h.server.me
    [warning] = account.warnings
    assert (warning.code, warning.http_status) == ("bot_flag", 403) and "refused" in warning.message
    assert ("app.bsky.actor.profile", "self") not in h.server.records


async def test_a_bot_label_the_server_did_not_keep_is_a_warning():
    h = BlueskyHarness()
    h.server.drop_self_labels = True
    account = await h.platform.connect(h.context(), h.http())
    [warning] = account.warnings
    assert warning.code == "bot_flag" and "did not keep" in warning.message
    h.validate_requests()


# ---- actions -----------------------------------------------------------------------------
async def _post(h: BlueskyHarness, kind: str = "plain", **kw):
    pid = h.add_post(kind, **kw)
    posts, _ = await h.platform.feed_source(h.context(), h.http()).fetch(h.source, None)
    return next(p for p in posts if p.id == pid)


async def test_repost_writes_the_documented_record_and_is_idempotent():
    h = BlueskyHarness()
    post = await _post(h)
    client = h.platform.action_client(h.context(), h.http())
    first = await client.repost(post)
    assert await client.repost(post) == first
    (body,) = bodies_of(h, "createRecord")
    assert body["repo"] == h.server.me and body["collection"] == "app.bsky.feed.repost"
    assert body["record"]["subject"] == {"uri": post.ref["uri"], "cid": post.ref["cid"]}
    assert first.startswith(f"at://{h.server.me}/app.bsky.feed.repost/")
    h.validate_requests()


async def test_a_repost_item_is_acted_on_through_its_original_post():
    h = BlueskyHarness()
    item = await _post(h, "repost")
    client = h.platform.action_client(h.context(), h.http())
    assert await client.has_reposted(item) is False
    action = await client.repost(item)
    assert bodies_of(h, "createRecord")[0]["record"]["subject"]["uri"] == item.ref["uri"] != item.id
    assert await client.has_reposted(item) is True
    await client.undo(item, None)  # found through viewer.repost
    assert bodies_of(h, "deleteRecord")[0]["rkey"] == action.rsplit("/", 1)[1]
    assert not h.is_reposted(item.id)


async def test_undo_refuses_records_that_are_not_the_accounts_and_reports_nothing_to_undo():
    h = BlueskyHarness()
    post = await _post(h)
    client = h.platform.action_client(h.context(), h.http())
    with pytest.raises(ActionRefused):
        await client.undo(post, f"at://{did_for('carol')}/app.bsky.feed.repost/3l2222222222a")
    with pytest.raises(PostGone):
        await client.undo(post, None)


async def test_like_and_quote_records():
    h = BlueskyHarness()
    post = await _post(h)
    client = h.platform.action_client(h.context(), h.http())
    like = await client.like(post)
    assert like.startswith(f"at://{h.server.me}/app.bsky.feed.like/") and await client.like(post) == like
    text = "Worth reading ☕ #Coffee by @alice.bsky.social https://example.com/x."
    quote = await client.quote(post, text)
    record = h.server.records[("app.bsky.feed.post", quote.rsplit("/", 1)[1])]
    assert record["embed"] == {
        "$type": "app.bsky.embed.record",
        "record": {"uri": post.ref["uri"], "cid": post.ref["cid"]},
    }
    spans = {
        f["features"][0]["$type"].split("#")[1]: text.encode()[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode()
        for f in record["facets"]
    }
    assert spans == {"tag": "#Coffee", "mention": "@alice.bsky.social", "link": "https://example.com/x"}
    with pytest.raises(ActionRefused):
        await client.quote(post, "x" * 301)
    h.validate_requests()


async def test_a_deleted_post_is_gone_and_has_reposted_cannot_tell():
    h = BlueskyHarness()
    post = await _post(h)
    del h.server.posts[post.ref["uri"]]
    client = h.platform.action_client(h.context(), h.http())
    with pytest.raises(PostGone):
        await client.repost(post)
    assert await client.has_reposted(post) is None


async def test_following_and_list_members_paginate():
    h = BlueskyHarness()
    h.server.follows = [h.server.add_profile(f"fan{chr(97 + i // 26)}{chr(97 + i % 26)}") for i in range(130)]
    h.server.list_members = {did_for("writer"), did_for("alice")}
    client = h.platform.action_client(h.context(), h.http())
    following = await client.following()
    assert len(following) == 260 and "fanez.bsky.social" in following
    url = "https://bsky.app/profile/reposterbot.bsky.social/lists/3kcurated2222"
    h.server.list_uri = "at://reposterbot.bsky.social/app.bsky.graph.list/3kcurated2222"
    assert await client.list_members(url) == {
        did_for("writer"),
        "writer.bsky.social",
        did_for("alice"),
        "alice.bsky.social",
    }
    assert len(params_of(h, "getFollows")) == 2
    h.validate_requests()


# ---- normalization -----------------------------------------------------------------------
def _view(h: BlueskyHarness, uri: str) -> dict:
    view = h.server.post_view(uri)
    assert not lexicons().check(view, {"type": "ref", "ref": "app.bsky.feed.defs#postView"}, "app.bsky.feed.defs")
    return view


def test_facets_give_tags_mentions_with_did_and_handle_and_links_at_byte_offsets():
    h = BlueskyHarness()
    text = "Caffè ☕ con @alice.bsky.social #Espresso https://example.com/bar"
    uri = h.server.publish(
        "writer", {"text": text, "facets": facets_for(text), "tags": ["latteart", "espresso"], "langs": ["it-IT"]}
    )
    post = post_from_view(_view(h, uri))
    assert post.hashtags == ["Espresso", "latteart"]
    assert post.mentions == [did_for("alice"), "alice.bsky.social"]
    assert post.urls == ["https://example.com/bar"] and post.lang == "it" and post.media_count == 0
    assert post.url == f"https://bsky.app/profile/writer.bsky.social/post/{uri.rsplit('/', 1)[1]}"
    assert post.ref == {"uri": uri, "cid": h.server.posts[uri]["cid"]}
    assert post.author.is_bot is False and post.author.created_at is not None


def test_embeds_external_video_and_quote_with_media():
    h = BlueskyHarness()
    quoted = strong_ref(h.server, h.server.publish("carol", {"text": "original"}))
    external = {
        "$type": "app.bsky.embed.external",
        "external": {"uri": "https://news.example.org/a", "title": "A", "description": ""},
    }
    video = {"$type": "app.bsky.embed.video", "video": {**IMAGE, "mimeType": "video/mp4"}}
    images = {"$type": "app.bsky.embed.images", "images": [{"alt": "", "image": IMAGE}] * 3}
    with_media = {
        "$type": "app.bsky.embed.recordWithMedia",
        "record": {"$type": "app.bsky.embed.record", "record": quoted},
        "media": images,
    }
    cases = [(external, 0, False, ["https://news.example.org/a"]), (video, 1, False, []), (with_media, 3, True, [])]
    for embed, media, is_quote, urls in cases:
        record = {"$type": "app.bsky.feed.post", "text": "x", "createdAt": "2024-11-22T01:00:00Z", "embed": embed}
        assert not lexicons().check_record("app.bsky.feed.post", record)
        post = post_from_record(
            record,
            uri=f"at://{did_for('writer')}/app.bsky.feed.post/3l2222222222a",
            cid="bafyreiabc123",
            author=post_from_view(_view(h, quoted["uri"])).author,
        )
        assert (post.media_count, post.is_quote, post.urls) == (media, is_quote, urls)
        assert post.quoted_post_id == (quoted["uri"] if is_quote else None)


def test_a_bot_labelled_author_and_what_the_opt_in_needs():
    h = BlueskyHarness()
    h.server.profiles[did_for("writer")]["labels"] = [
        {
            "src": did_for("writer"),
            "uri": f"at://{did_for('writer')}/app.bsky.actor.profile/self",
            "val": "bot",
            "cts": "2024-11-01T00:00:00.000Z",
        }
    ]
    text = "please share @reposterbot.bsky.social"
    post = post_from_view(_view(h, h.server.publish("writer", {"text": text, "facets": facets_for(text)})))
    assert post.author.is_bot is True
    # what the engine's consent check reads: the account's handle and DID among the mentions
    assert {"reposterbot.bsky.social", did_for("reposterbot")} <= set(post.mentions)
    assert BlueskyPlatform.default_limits["require_consent"] is True


async def test_profiles_fill_followers_bio_and_unknown_handles_and_reread_authors_each_poll():
    h = BlueskyHarness("tag:coffee")
    h.add_post("reply")
    h.add_post("plain", text="more #coffee @alice")
    feed = h.platform.feed_source(h.context(), h.http())
    posts, cursor = await feed.fetch(h.source, None)
    reply = posts[0]
    assert reply.author.followers_count == 106 and reply.author.bio == "writer on Bluesky"
    assert reply.reply_to_author == "bob.bsky.social"  # search gives only the parent's DID
    assert "alice.bsky.social" in posts[1].mentions
    h.add_post("plain", text="again #coffee @alice")
    await feed.fetch(h.source, cursor)
    # The second poll reads its author again (the bio is where #nobot is said); alice, a mention,
    # comes from the cache.
    assert [p["actors"] for p in params_of(h, "getProfiles")][1] == [did_for("writer")]
    h.validate_requests()


async def test_a_nobot_added_to_the_bio_counts_on_the_next_poll():
    """Seen on the dev network: bob put #nobot in his bio, posted 3 s later, and was reposted,
    because his profile had been cached by the poll before (post views carry no bio)."""
    h = BlueskyHarness("tag:coffee")
    h.add_post("plain")
    feed = h.platform.feed_source(h.context(), h.http())
    posts, cursor = await feed.fetch(h.source, None)
    assert "#nobot" not in posts[0].author.bio
    h.server.profiles[did_for("writer")]["description"] = "no reposts please #nobot"
    h.add_post("plain")
    posts, _ = await feed.fetch(h.source, cursor)
    assert [p.author.bio for p in posts] == ["no reposts please #nobot"]


async def test_a_pushed_post_rereads_its_author_at_most_every_so_often():
    from app.platforms.base import Author
    from app.platforms.bluesky.profiles import STREAM_AUTHOR_MAX_AGE, ProfileCache, hydrate

    did = did_for("writer")
    cache, asked = ProfileCache(), []

    async def fetch(actors):
        asked.append(actors)
        return [{"did": did, "handle": "writer.bsky.social", "description": f"bio {len(asked)}"}]

    def pushed():
        return post_from_record({"text": "hi"}, uri=f"at://{did}/app.bsky.feed.post/3k2a", cid="bafy",
                                author=Author(id=did, handle=did))

    first, second = pushed(), pushed()
    await hydrate([first], cache, fetch, STREAM_AUTHOR_MAX_AGE)
    await hydrate([second], cache, fetch, STREAM_AUTHOR_MAX_AGE)
    assert asked == [[did]] and second.author.bio == "bio 1"
    third = pushed()
    await hydrate([third], cache, fetch, 0.0)
    assert asked == [[did], [did]] and third.author.bio == "bio 2"


async def test_without_hydration_unknown_stays_unknown():
    h = BlueskyHarness()
    h.add_post("plain")
    posts, _ = await h.platform.feed_source(h.context(hydrate_authors=False), h.http()).fetch(h.source, None)
    assert posts[0].author.followers_count is None and posts[0].author.bio is None
    assert "getProfiles" not in " ".join(nsids(h))


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


# ---- where calls go, and Bluesky's own rate-limit headers ---------------------------------
async def test_public_reads_go_to_the_appview_without_the_session_and_the_rest_to_the_pds():
    h = BlueskyHarness("user:writer.bsky.social")
    h.add_post("plain")
    ctx = h.context(appview_url="https://appview.test")
    await h.platform.feed_source(ctx, h.http()).fetch(h.source, None)
    await h.platform.feed_source(ctx, h.http()).fetch("tag:coffee", None)
    hosts = {r.url.path.removeprefix("/xrpc/"): (r.url.host, "authorization" in r.headers) for r in h.requests}
    assert hosts["app.bsky.feed.getAuthorFeed"] == ("appview.test", False)
    assert hosts["app.bsky.actor.getProfiles"] == ("appview.test", False)
    assert hosts["app.bsky.feed.searchPosts"] == ("pds.test", True)  # search needs a session


async def test_a_429_with_ratelimit_reset_raises_until_the_window_resets():
    h = BlueskyHarness()
    post = await _post(h)
    reset = int(time.time()) + 600
    h.fail_next(429, {"RateLimit-Limit": "5000", "RateLimit-Remaining": "0", "RateLimit-Reset": str(reset)})
    with pytest.raises(RateLimited) as info:
        await h.platform.action_client(h.context(), h.http()).repost(post)
    assert int(info.value.retry_at.timestamp()) == reset


async def test_fetch_post_reads_the_original_of_a_repost_item_and_sees_its_deletion():
    h = BlueskyHarness()
    item = await _post(h, "repost")
    client = h.platform.action_client(h.context(), h.http())
    fresh = await client.fetch_post(item)
    assert fresh.id == item.ref["uri"] and fresh.text == item.text and fresh.hashtags == item.hashtags
    del h.server.posts[item.ref["uri"]]
    assert await client.fetch_post(item) is None
    h.validate_requests()


async def test_what_a_post_says_of_its_author_beats_the_cached_profile():
    """A bio with #nobot added since the profile was cached (and a handle changed since) count at
    once; the cache only fills what the post leaves unknown."""
    from app.platforms.base import Author
    from app.platforms.bluesky.profiles import ProfileCache, hydrate

    did = did_for("writer")
    cache = ProfileCache()
    cache.put(Author(id=did, handle="writer.bsky.social", bio="writer on Bluesky", followers_count=106))
    fresh = Author(id=did, handle="writer-new.bsky.social", bio="no bots please #nobot")
    post = post_from_record({"text": "hi"}, uri=f"at://{did}/app.bsky.feed.post/3k2a", cid="bafy", author=fresh)
    from_jetstream = post_from_record({"text": "hi"}, uri=f"at://{did}/app.bsky.feed.post/3k2b", cid="bafy",
                                      author=Author(id=did, handle=did))

    async def no_fetch(actors):
        raise AssertionError("everything is cached")

    await hydrate([post, from_jetstream], cache, no_fetch)
    assert (post.author.bio, post.author.handle, post.author.followers_count) == (
        "no bots please #nobot", "writer-new.bsky.social", 106)
    assert (from_jetstream.author.handle, from_jetstream.author.bio) == ("writer.bsky.social", "writer on Bluesky")


async def test_lookup_author_resolves_handles_and_dids_and_knows_nobody():
    h = BlueskyHarness()
    client = h.platform.action_client(h.context(), h.http())
    alice = await client.lookup_author("alice.bsky.social")
    assert (alice.id, alice.handle) == (did_for("alice"), "alice.bsky.social")
    assert (await client.lookup_author(did_for("bob"))).handle == "bob.bsky.social"
    assert await client.lookup_author("nobody.bsky.social") is None
    assert await client.lookup_author("did:plc:nobodynobodynobodynobody") is None
    h.fail_next(503, times=10)
    with pytest.raises(PlatformError):
        await client.lookup_author("alice.bsky.social")
    h.validate_requests()
