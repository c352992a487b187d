"""The terms for marks on a post: has:cw, is:sensitive, label:<value>. Parsed, normalized, matched
the same by the reference evaluator, the Python index and the C index."""

from __future__ import annotations

import pytest

from app.query import QuerySyntaxError, RuleIndex, explain, matches, normalize, parse
from app.query.native import native
from app.query.nodes import And, Has, Is, Label, Not, Word
from tests.ci import unavailable
from tests.query.posts import make_post

RULES = ["coffee has:cw", "coffee -has:cw", "coffee is:sensitive", "coffee -is:sensitive", "coffee label:spam",
         "coffee -label:spam", "coffee label:!warn", "coffee (label:porn OR label:nudity)"]


def test_the_terms_parse_fold_and_print_back():
    node = parse("coffee has:CW is:Sensitive label:Spam label:!warn -label:porn")
    assert node == And((Word("coffee"), Has("cw"), Is("sensitive"), Label("spam"), Label("!warn"),
                        Not(Label("porn"))))
    assert normalize(node) == "coffee has:cw is:sensitive label:spam label:!warn -label:porn"
    assert parse(normalize(node)) == node


@pytest.mark.parametrize(("query", "position", "fragment"), [
    ("coffee label:", 13, "needs a value"),
    ("coffee label:sp@m", 15, "cannot be part of a label"),
    ("coffee label:a!b", 14, "cannot be part of a label"),
    ("coffee label:!", 13, "after '!'"),
    ("coffee label:" + "a" * 129, 13, "at most 128"),
    ("coffee has:spoiler", 11, "cw"),
    ("coffee is:nsfw", 10, "sensitive"),
    ("label:spam", 0, "label:"),
])
def test_bad_terms_are_refused_with_a_position(query, position, fragment):
    with pytest.raises(QuerySyntaxError) as caught:
        parse(query)
    assert caught.value.position == position and fragment in caught.value.message


def test_a_scoped_rule_may_be_made_of_marks_alone():
    assert parse("label:spam", scoped=True) == Label("spam")


POSTS = [
    make_post("coffee"),
    make_post("coffee", content_warning="Spoilers", sensitive=True),
    make_post("coffee", content_warning="", sensitive=False, labels=["Spam"]),
    make_post("coffee", labels=["!warn", "porn"]),
    make_post("coffee", author={"labels": ["SPAM", "nudity"]}),
    make_post("coffee", author={"labels": None}, labels=["Naïve"]),
]


@pytest.mark.parametrize("native_loop", [False, True])
def test_the_index_agrees_with_the_reference_evaluator(native_loop):
    if native_loop and native is None:
        unavailable("the C extension is not built (or REPOSTER_PURE_PYTHON is set)")
    index = RuleIndex(native=native_loop)
    index.add_many(enumerate(parse(rule) for rule in RULES))
    for post in POSTS:
        expected = {rid for rid, rule in enumerate(RULES) if matches(parse(rule), post)}
        assert index.match(post) == expected, post


def test_what_each_term_holds_for():
    def held(query, post):
        return matches(parse(query), post)

    cw, plain, labelled, by_author = POSTS[1], POSTS[0], POSTS[2], POSTS[4]
    assert held("coffee has:cw", cw) and not held("coffee has:cw", plain) and not held("coffee has:cw", labelled)
    assert held("coffee is:sensitive", cw) and not held("coffee is:sensitive", labelled)
    assert held("coffee label:spam", labelled) and held("coffee label:spam", by_author)
    assert not held("coffee label:spam", plain) and held("coffee -label:spam", plain)
    terms = explain(parse("coffee label:nudity -has:cw"), by_author).to_dict()["terms"]
    assert terms == [{"term": "coffee", "held": True}, {"term": "label:nudity", "held": True},
                     {"term": "-has:cw", "held": True}]
