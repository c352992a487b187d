"""Bluesky posts as reposter sees them: facets, embeds, labels, and authors hydrated from profiles."""

from __future__ import annotations

from app.platforms.bluesky.normalize import post_from_record, post_from_view
from app.platforms.bluesky.platform import BlueskyPlatform
from tests.platforms.bluesky.recorded import nsids, params_of
from tests.platforms.harness_bluesky import (
    IMAGE,
    BlueskyHarness,
    did_for,
    facets_for,
    strong_ref,
)
from tests.platforms.lexicon_check import lexicons


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
    from app.platforms.bluesky.profiles import (
        STREAM_AUTHOR_MAX_AGE,
        ProfileCache,
        hydrate,
    )

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
