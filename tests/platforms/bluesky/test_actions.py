"""Bluesky actions and reads: records written, undo, gone posts, followers, where calls go, rate limits, authors."""

from __future__ import annotations

import time

import pytest

from app.platforms.base import ActionRefused, PlatformError, PostGone, RateLimited
from app.platforms.bluesky.normalize import post_from_record
from tests.platforms.bluesky.recorded import bodies_of, fetched_post, params_of
from tests.platforms.harness_bluesky import BlueskyHarness, did_for


# ---- actions -----------------------------------------------------------------------------
async def test_repost_writes_the_documented_record_and_is_idempotent():
    h = BlueskyHarness()
    post = await fetched_post(h)
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
    item = await fetched_post(h, "repost")
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
    post = await fetched_post(h)
    client = h.platform.action_client(h.context(), h.http())
    with pytest.raises(ActionRefused):
        await client.undo(post, f"at://{did_for('carol')}/app.bsky.feed.repost/3l2222222222a")
    with pytest.raises(PostGone):
        await client.undo(post, None)


async def test_like_and_quote_records():
    h = BlueskyHarness()
    post = await fetched_post(h)
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
    post = await fetched_post(h)
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


async def test_a_moderation_list_is_read_in_full_and_another_list_only_to_its_purpose():
    h = BlueskyHarness()
    people = [h.server.add_profile(f"mod{chr(97 + i // 26)}{chr(97 + i % 26)}") for i in range(130)]
    modlist = h.server.add_list("alice", "3kmods2222", "Spam", people)
    curated = h.server.add_list("alice", "3kfriends22", "Friends", people, purpose="curatelist")
    client = h.platform.action_client(h.context(), h.http())
    found = await client.moderation_list(modlist)
    assert (found.name, found.purpose, len(found.members), found.truncated) == (
        "Spam", "app.bsky.graph.defs#modlist", 130, False)
    assert (did_for("modaa"), "modaa.bsky.social") in found.members
    assert len(params_of(h, "getList")) == 2  # pages of 100
    other = await client.moderation_list(curated.replace(did_for("alice"), "alice.bsky.social"))
    assert other.purpose.endswith("#curatelist") and len(params_of(h, "getList")) == 3  # one page is enough
    with pytest.raises(PostGone):
        await client.moderation_list(modlist + "x")
    # a `list:` scope given as the bsky.app address, its owner by handle: asked for by DID
    assert did_for("modaa") in await client.list_members("https://bsky.app/profile/alice.bsky.social/lists/3kmods2222")
    h.validate_requests()


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
    post = await fetched_post(h)
    reset = int(time.time()) + 600
    h.fail_next(429, {"RateLimit-Limit": "5000", "RateLimit-Remaining": "0", "RateLimit-Reset": str(reset)})
    with pytest.raises(RateLimited) as info:
        await h.platform.action_client(h.context(), h.http()).repost(post)
    assert int(info.value.retry_at.timestamp()) == reset


async def test_fetch_post_reads_the_original_of_a_repost_item_and_sees_its_deletion():
    h = BlueskyHarness()
    item = await fetched_post(h, "repost")
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
