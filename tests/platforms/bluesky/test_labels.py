"""Labels on Bluesky posts and authors: the AppView's labels by the labelers the account names
(atproto-accept-labelers), the author's self-labels, negation and expiry, and what is sensitive."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.platforms.base import PlatformError
from app.platforms.bluesky.config import BlueskyConfig, load_config
from app.platforms.bluesky.normalize import label_values, post_from_view
from app.platforms.bluesky.platform import BlueskyPlatform
from tests.platforms.harness_bluesky import BSKY_MODERATION, BlueskyHarness, did_for
from tests.platforms.lexicon_check import lexicons

SPAM_WATCH = "did:plc:spamwatch2222"
ART_TAGS = "did:web:labels.art.example"


def _view(h: BlueskyHarness, uri: str) -> dict:
    view = h.server.post_view(uri)
    assert not lexicons().check(view, {"type": "ref", "ref": "app.bsky.feed.defs#postView"}, "app.bsky.feed.defs")
    return view


def _label(val: str, *, src: str = SPAM_WATCH, uri: str = "at://x/app.bsky.feed.post/1", **extra) -> dict:
    return {"src": src, "uri": uri, "val": val, "cts": "2026-11-01T00:00:00.000Z", **extra}


def test_label_values_drop_negated_expired_and_other_subjects():
    labels = [
        _label("spam"), _label("spam", neg=True),  # negated by the same labeler
        _label("spam", src=ART_TAGS),  # another labeler's stands
        _label("old", exp="2020-01-01T00:00:00.000Z"), _label("later", exp="2999-01-01T00:00:00Z"),
        _label("profile-only", uri="at://x/app.bsky.actor.profile/self"), {"val": ""}, "junk",
    ]
    assert label_values(labels) == ["spam", "later", "profile-only"]
    assert label_values(labels, subject="at://x/app.bsky.feed.post/1") == ["spam", "later"]
    assert label_values(None) == []


def test_self_labels_and_the_appviews_labels_fill_post_labels_and_sensitive():
    h = BlueskyHarness()
    record = {"text": "a painting", "labels": {"$type": "com.atproto.label.defs#selfLabels",
                                              "values": [{"val": "nudity"}]}}
    uri = h.server.publish("writer", record)
    h.server.add_label(BSKY_MODERATION, uri, "!warn")
    post = post_from_view(_view(h, uri))
    assert post.labels == ["nudity", "!warn"] and post.sensitive is True
    plain = post_from_view(_view(h, h.server.publish("writer", {"text": "tea"})))
    assert plain.labels == [] and plain.sensitive is False and plain.content_warning is None


def test_account_labels_but_not_profile_record_labels_are_the_authors():
    h = BlueskyHarness()
    writer = did_for("writer")
    h.server.add_label(BSKY_MODERATION, writer, "spam")
    h.server.add_label(BSKY_MODERATION, f"at://{writer}/app.bsky.actor.profile/self", "sexual")
    post = post_from_view(_view(h, h.server.publish("writer", {"text": "hello"})))
    assert post.author.labels == ["spam"]


async def test_the_labelers_of_the_account_are_asked_for_on_every_appview_read():
    h = BlueskyHarness("tag:coffee")
    uri = h.add_post("plain")
    h.server.add_label(SPAM_WATCH, uri, "spam")
    h.server.add_label(ART_TAGS, did_for("writer"), "ai-art")
    h.server.add_label("did:plc:notasked2222", uri, "rude")
    feed = h.platform.feed_source(h.context(labelers=[SPAM_WATCH, ART_TAGS]), h.http())
    (post,), _ = await feed.fetch(h.source, None)
    assert post.labels == ["spam"] and post.author.labels == ["ai-art"]
    reads = [r for r in h.requests if r.url.path.startswith("/xrpc/app.bsky.")]
    assert reads and {r.headers.get("atproto-accept-labelers") for r in reads} == {f"{SPAM_WATCH}, {ART_TAGS}"}
    assert all("atproto-accept-labelers" not in r.headers for r in h.requests if r not in reads)
    h.validate_requests()


async def test_without_labelers_the_header_is_left_to_the_appviews_default():
    h = BlueskyHarness("tag:coffee")
    uri = h.add_post("plain")
    h.server.add_label(SPAM_WATCH, uri, "spam")
    h.server.add_label(BSKY_MODERATION, uri, "!warn")
    (post,), _ = await h.platform.feed_source(h.context(), h.http()).fetch(h.source, None)
    assert post.labels == ["!warn"]
    assert all("atproto-accept-labelers" not in r.headers for r in h.requests)


@pytest.mark.parametrize("labelers", [["spamwatch.example"], ["did:plc:"], "did:plc:abc", [f"did:plc:{i}" for i in
                                                                                            range(21)]])
def test_labelers_must_be_dids_and_few(labelers):
    h = BlueskyHarness()
    with pytest.raises(PlatformError, match="labelers"):
        load_config(h.context(labelers=labelers))


def test_repeated_labelers_are_named_once():
    config = BlueskyConfig(labelers=[SPAM_WATCH, SPAM_WATCH, ART_TAGS])
    assert config.labeler_headers() == {"atproto-accept-labelers": f"{SPAM_WATCH}, {ART_TAGS}"}
    assert BlueskyConfig().labeler_headers() == {}


def test_the_api_refuses_an_account_config_with_bad_labelers():
    """What accounts' _check_config runs before any call: pydantic's error, which it turns into a 422."""
    with pytest.raises(ValidationError, match="labelers"):
        BlueskyPlatform().check_config({"labelers": ["spamwatch.example"]})
    BlueskyPlatform().check_config({"labelers": [SPAM_WATCH]})
