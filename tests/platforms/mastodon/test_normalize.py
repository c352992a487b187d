"""Status and Account entities to Post and Author, on the shapes the documentation shows."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

from app.platforms.mastodon.normalize import html_to_text, parse_content, status_to_post
from tests.platforms.mastodon.contract import mastodon_contract

GUARDIAN = "https://www.theguardian.com/money/2019/dec/07/i-lost-my-193000-inheritance-with-one-wrong-digit-on-my-sort-code"


def documented_status() -> dict:
    """The Status inside the documentation's Quote example (docs.joinmastodon.org/entities/Quote)."""
    doc = mastodon_contract().doc
    return copy.deepcopy(doc["components"]["schemas"]["Quote"]["example"]["quoted_status"])


def test_the_documented_example_status():
    post = status_to_post(documented_status())
    assert post.platform == "mastodon"
    assert post.id == "103270115826048975"
    assert post.url == "https://mastodon.social/@Gargron/103270115826048975"
    assert post.text.startswith('"I lost my inheritance with one wrong digit on my sort code"')
    assert post.urls == [GUARDIAN]
    assert GUARDIAN in post.text  # the hidden spans hold the full link
    assert post.lang == "en"
    assert post.created_at == datetime(2019, 12, 8, 3, 48, 33, 901000, tzinfo=UTC)
    assert post.is_reply is False and post.is_repost is False
    assert post.media_count == 0 and post.hashtags == [] and post.mentions == []
    author = post.author
    assert (author.id, author.handle, author.display_name) == ("1", "Gargron", "Eugen")
    assert author.followers_count == 322930 and author.is_bot is False
    assert author.bio == ("Developer of Mastodon and administrator of mastodon.social. I post service announcements, "
                          "development updates, and personal stuff.")


def test_keys_the_server_leaves_out_stay_unknown():
    status = documented_status()
    for key in ("in_reply_to_id", "reblog", "language", "media_attachments"):
        status.pop(key)
    post = status_to_post(status)
    assert post.is_reply is None and post.is_repost is None and post.lang is None
    assert post.media_count is None
    assert post.is_quote is None  # a server before 4.5 sends no `quote` key at all


def test_nobot_in_the_note_reaches_the_author_bio():
    status = documented_status()
    status["account"]["note"] = ('<p>Please no automated boosts <a href="https://x.example/tags/nobot" '
                                 'class="mention hashtag" rel="tag">#<span>nobot</span></a></p>')
    assert status_to_post(status).author.bio == "Please no automated boosts #nobot"


def test_a_boost_keeps_its_id_and_booster_but_the_original_content():
    original = documented_status()
    original["tags"] = [{"name": "coffee", "url": "https://mastodon.social/tags/coffee"}]
    boost = {**documented_status(), "id": "103270115826049999", "content": "", "tags": [], "reblog": original,
             "url": None}
    boost["account"] = {**boost["account"], "id": "7", "acct": "booster@other.example"}
    post = status_to_post(boost)
    assert post.id == "103270115826049999" and post.is_repost is True
    assert post.url == "https://mastodon.social/@Gargron/103270115826048975"  # the original's
    assert post.author.handle == "booster@other.example"
    assert post.hashtags == ["coffee"] and post.text.startswith('"I lost')
    assert post.ref == {"reblog_of_id": "103270115826048975"}


def test_reply_to_author_comes_from_the_mention_of_that_account():
    status = documented_status()
    status.update(in_reply_to_id="5", in_reply_to_account_id="77")
    status["mentions"] = [{"id": "77", "username": "bob", "acct": "bob@b.example", "url": "https://b.example/@bob"}]
    post = status_to_post(status)
    assert post.is_reply is True and post.reply_to_author == "bob@b.example"
    status["in_reply_to_account_id"] = "1"  # a thread: replying to oneself
    assert status_to_post(status).reply_to_author == "Gargron"


def test_native_quotes_full_and_shallow():
    quoting = documented_status()
    quoting["quote"] = {"state": "accepted", "quoted_status": documented_status()}
    assert status_to_post(quoting).quoted_post_id == "103270115826048975"
    quoting["quote"] = {"state": "accepted", "quoted_status_id": "42"}
    post = status_to_post(quoting)
    assert post.is_quote is True and post.quoted_post_id == "42"
    quoting["quote"] = {"state": "pending", "quoted_status": None}
    post = status_to_post(quoting)
    assert post.is_quote is True and post.quoted_post_id is None
    quoting["quote"] = None
    assert status_to_post(quoting).is_quote is False


def test_the_quote_fallback_paragraph_is_not_text():
    html = '<p class="quote-inline">RE: <a href="https://a.example/@x/1">https://a.example/@x/1</a></p><p>So true</p>'
    assert parse_content(html) == ("So true", [])


def test_html_to_text_keeps_paragraphs_and_line_breaks_and_entities():
    assert html_to_text("<p>one<br>two &amp; three</p><p>four</p>") == "one\ntwo & three\n\nfour"
    assert html_to_text("") == "" and html_to_text(None) == ""


def test_the_preview_card_link_counts_as_a_link():
    status = documented_status()
    status["content"] = "<p>see the card</p>"
    status["card"] = {"url": "https://example.com/page"}
    assert status_to_post(status).urls == ["https://example.com/page"]


def test_content_warning_and_sensitive_as_documented():
    """Status.spoiler_text ("Subject or summary line, below which status content is collapsed")
    and Status.sensitive; a boost carries the boosted status' own."""
    status = documented_status()
    assert status["spoiler_text"] == "" and status["sensitive"] is False  # the documentation's example
    plain = status_to_post(status)
    assert plain.content_warning is None and plain.sensitive is False
    status.update(spoiler_text=" Film spoilers ", sensitive=True)
    marked = status_to_post(status)
    assert marked.content_warning == "Film spoilers" and marked.sensitive is True
    boost = {**documented_status(), "id": "9", "reblog": status}
    assert status_to_post(boost).content_warning == "Film spoilers" and status_to_post(boost).sensitive is True
    del status["sensitive"]
    assert status_to_post(status).sensitive is None  # left out: unknown, not false
