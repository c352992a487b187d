"""The `mentions` source: GET /api/v1/notifications?types[]=mention, paged as a timeline, read as posts."""

from __future__ import annotations

from app.engine.stop_words import stop_word_in
from app.platforms.mastodon.feed import MastodonFeedSource
from tests.platforms.mastodon.conftest import context
from tests.platforms.mastodon.fake_server import FakeMastodon


async def test_mentions_are_read_from_the_notifications_each_once_with_the_author_id(fake, contract):
    feed = MastodonFeedSource(context(fake, page_size=2), fake.client())
    alice, bob = fake.add_account("alice"), fake.add_account("bob")
    said = fake.new_status(alice, "@reposter_bot STOP please")
    fake.new_status(bob, "no mention of anyone #coffee")
    fake.new_status(fake.me, "@reposter_bot talking to myself")  # the account's own: never a candidate
    posts, cursor = await feed.fetch("mentions", None)
    assert [(p.id, p.author.id) for p in posts] == [(said["id"], alice["id"])]
    assert stop_word_in(posts[0].text, ["stop"]) == "stop"  # the text as read, HTML stripped

    later = [fake.new_status(bob, f"@reposter_bot nonstop {i}")["id"] for i in range(3)]  # more than a page
    again, cursor = await feed.fetch("mentions", cursor)
    assert [p.id for p in again] == later and all(stop_word_in(p.text, ["stop"]) is None for p in again)
    assert (await feed.fetch("mentions", cursor))[0] == []
    asked = [ex.request for ex in fake.exchanges if ex.request.url.path == "/api/v1/notifications"]
    assert asked and all(r.url.params.get_list("types[]") == ["mention"] for r in asked)
    fake.validate(contract)


async def test_on_takahe_pages_reached_by_link_list_every_type_and_only_mentions_are_read(contract):
    """Takahē 0.11 (docs/tryouts/issue13-takahe.md): the notifications' Link URLs keep `limit` and
    `account_id` only, so the page after a full one lists follows and favourites too."""
    fake = FakeMastodon.takahe()
    feed = MastodonFeedSource(context(fake, page_size=2), fake.client())
    alice, bob = fake.add_account("alice"), fake.add_account("bob")
    _, cursor = await feed.fetch("mentions", None)  # empty: everything after is new
    ours, said = fake.new_status(fake.me, "our own toot"), []
    for i in range(3):
        said.append(fake.new_status(alice, f"@reposter_bot stop {i}")["id"])
        fake.notice("follow", bob)
        fake.notice("favourite", bob, ours)
    read, cursor = await feed.fetch("mentions", cursor)
    read += (await feed.fetch("mentions", cursor))[0]
    assert [p.id for p in read] == said and {p.author.id for p in read} == {alice["id"]}
    asked = [ex.request for ex in fake.exchanges if ex.request.url.path == "/api/v1/notifications"]
    assert any(not r.url.params.get_list("types[]") for r in asked)  # a Link followed: no types[] in it
    fake.validate(contract)
