"""Names in a query resolved to ids: the index then matches the person, whatever their handle."""

import pytest

from app.query import RuleIndex, matches, parse
from app.query.authors import named_authors, with_author_ids
from app.query.index import NATIVE
from tests.query.posts import make_post

IDS = {"alice": "did:plc:alice", "bob": "109", "carol@other.example": "7"}


def test_named_authors_lists_from_to_and_mentions_negated_too():
    node = parse('from:alice (to:@Bob OR @carol@other.example) -from:dora coffee "x y"')
    assert named_authors(node) == ["alice", "bob", "carol@other.example", "dora"]


@pytest.mark.parametrize("native", [False, True] if NATIVE else [False])
def test_resolved_terms_match_by_id_not_by_the_handle_they_were_typed_as(native):
    node = with_author_ids(parse("from:alice OR to:bob OR @carol@other.example"), IDS)
    index = RuleIndex(native=native)
    index.add(1, node)
    renamed = make_post("hi", handle="alice-new", author_id="did:plc:alice")
    taker = make_post("hi", handle="alice", author_id="did:plc:other")
    reply = make_post("hi", handle="x", author_id="1", reply_to_author="bob-renamed", reply_to_author_id="109")
    mention = make_post("hi", handle="x", author_id="1", mentions=["carol2@other.example"], mention_ids=["7"])
    old_mention = make_post("hi", handle="x", author_id="1", mentions=["carol@other.example"], mention_ids=["8"])
    for post, expected in ((renamed, True), (taker, False), (reply, True), (mention, True), (old_mention, False)):
        assert (index.match(post) == {1}) is expected and matches(node, post) is expected, post


def test_two_names_for_one_person_collapse():
    node = with_author_ids(parse("from:alice OR from:did:plc:alice"), IDS)
    assert node == parse("from:did:plc:alice")
