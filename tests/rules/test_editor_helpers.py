"""The pure pieces behind the rule editor: where a fault is cut out of the query, the plain-word
warnings, a pasted post, and how a preview's skips are grouped by reason."""

from __future__ import annotations

import pytest

from app.errors import Invalid
from app.query.warnings import plain_words
from app.rules.checking import check, split_at_fault
from app.rules.pasted import pasted_post
from app.rules.schemas import PreviewItem, PreviewResult
from app.rules.summary import reason_group, summarize


@pytest.mark.parametrize("query, position, parts", [
    ("#coffee (tea OR", 13, ("#coffee (tea ", "OR", "")),  # a term: all of it
    ('a "b', 2, ("a ", '"', "b")),  # a quote, a parenthesis or a minus: that character
    ("a)", 1, ("a", ")", "")),
    ("lang:english x", 5, ("lang:", "english", " x")),  # from the position to the end of the term
    ("a OR", 4, ("a OR", " ", "")),  # past the end: a blank stands for what is missing
])
def test_the_fault_is_cut_out_where_the_parser_says(query, position, parts):
    assert split_at_fault(query, position) == parts


def test_a_check_marks_the_fault_with_whitespace_lined_up():
    result = check("#coffee\n(tea OR", "anyone")
    assert not result.valid and result.position == 13 and result.marked == ("#coffee (tea ", "OR", "")
    assert check("x", "friends").where == "scope" and check("x", "friends").marked is None
    assert check("", "followers").valid


def test_plain_words_are_the_check_rules_warnings():
    assert [(w.text, w.position) for w in plain_words("NOT spam or eggs and ham")] == [
        ("NOT", 0), ("or", 9), ("and", 17)]
    assert plain_words('"unclosed') == []  # the syntax error says more


def test_a_pasted_post_reads_its_tags_mentions_and_links():
    post = pasted_post(platform="mock", text="New #Espresso at @bar@x.social https://a.example/b", handle="@ana",
                       followers="1,200", reply="no")
    assert (post.author.handle, post.author.followers_count, post.is_reply) == ("ana", 1200, False)
    assert (post.hashtags, post.mentions, post.urls) == (["Espresso"], ["bar@x.social"], ["https://a.example/b"])
    with pytest.raises(Invalid):
        pasted_post(platform="mock", text="x", handle="a", followers="many")
    with pytest.raises(Invalid):
        pasted_post(platform="mock", text="x", handle="a", reply="perhaps")


@pytest.mark.parametrize("reason, group", [
    ("scope: not a follower", "not a follower"), ("filter: language de not in en", "language"),
    ("filter: min_followers 200: author has 3", "min_followers"), ("filter: banned word 'crypto'", "banned word"),
    ("filter: duplicate text (same as a post reposted within 60 min)", "duplicate text"),
    ("blocked: spam", "blocked"), ("opted out: #nobot in the author's bio", "opted out"), ("own post", "own post"),
])
def test_skips_are_grouped_by_the_kind_of_their_reason(reason, group):
    assert reason_group(reason) == group


def test_the_summary_says_it_in_one_sentence():
    def item(would, reason=None):
        return PreviewItem(post={}, matched=would != "no match", would=would, reason=reason, terms=[])

    items = [item("queued"), item("review"), *[item("skipped", "scope: not a follower")] * 2,
             item("skipped", "filter: language de not in en"), item("no match"), item("already acted")]
    summary = summarize(PreviewResult(query="q", scope="anyone", items=items), hours=24, kind="quote", capped=False)
    assert summary.sentence == ("In the last 24 h this rule would have quoted 2 (1 after review) and skipped 3: "
                                "2 not a follower, 1 language.")
    assert (summary.tried, summary.unmatched, summary.already) == (7, 1, 1)
