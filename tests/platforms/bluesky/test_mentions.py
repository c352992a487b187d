"""The `mentions` source on Bluesky: app.bsky.notification.listNotifications, reasons mention and reply."""

from app.engine.stop_words import stop_word_in
from tests.platforms.harness_bluesky import BlueskyHarness, did_for, facets_for, strong_ref


async def _fetch(h, cursor=None):
    async with h.http() as http:
        return await h.platform.feed_source(h.context(hydrate_authors=False), http).fetch("mentions", cursor)


def _say(h, name, text, **record):
    return h.server.publish(name, {"text": text, "facets": facets_for(text), **record})


async def test_mentions_and_replies_are_read_by_author_did_each_once():
    h = BlueskyHarness()
    said = _say(h, "alice", "@reposterbot stop please")
    _say(h, "bob", "@carol nonstop")  # mentions someone else: no notification
    (post,), cursor = await _fetch(h)
    assert post.id == said and post.author.id == did_for("alice") and stop_word_in(post.text, ["stop"]) == "stop"

    mine = h.server.publish("reposterbot", {"text": "our weekly digest"})
    replies = [_say(h, "bob", f"#nobot {i}", reply={"root": strong_ref(h.server, mine),
                                                     "parent": strong_ref(h.server, mine)}) for i in range(3)]
    again, cursor = await _fetch(h, cursor)  # three, over two pages of 2
    assert [p.id for p in again] == replies and all(p.author.id == did_for("bob") for p in again)
    assert (await _fetch(h, cursor))[0] == []
    asked = [r for r in h.requests if r.url.path.endswith("listNotifications")]
    assert asked and all(r.url.params.get_list("reasons") == ["mention", "reply"] for r in asked)
    h.validate_requests()
