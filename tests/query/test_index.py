from app.query import RuleIndex, parse, prepare
from tests.query.posts import make_post


def build(*queries, scoped=False):
    index = RuleIndex()
    index.add_many((rid, parse(query, scoped=scoped)) for rid, query in enumerate(queries))
    return index


def test_match_returns_the_ids_of_the_rules_that_hold():
    index = build("espresso", '"latte art" lang:it', "#coffee -is:reply", "from:alice OR @alice", "url:example.com")
    post = make_post("Latte art and espresso", lang="it", hashtags=["Coffee"], is_reply=True,
                     urls=["https://shop.example.com/x"], mentions=["alice"])
    assert index.match(post) == {0, 1, 3, 4}
    assert index.match(prepare(make_post("tea"))) == set()


def test_rules_without_an_anchor_are_checked_on_every_post():
    index = build("", "-is:reply", "lang:it followers_count:100..200", scoped=True)
    assert index.match(make_post("x", is_reply=True)) == {0}
    assert index.match(make_post("x", lang="it-IT", author={"followers_count": 150})) == {0, 1, 2}


def test_changes_take_effect_for_the_next_post():
    index = build("espresso")
    post = make_post("espresso and tea")
    index.replace(0, parse("tea -espresso"))
    assert index.match(post) == set()
    index.add(1, parse("tea"))
    assert index.match(post) == {1}
    assert index.remove(1) and index.match(post) == set()
    assert len(index) == 1


def test_a_scope_of_authors_restricts_and_anchors_the_rule():
    index = RuleIndex()
    index.add(7, parse("", scoped=True), authors=["@Alice", "did:plc:bob"])
    index.add(8, parse("-is:reply", scoped=True), authors=["carol"])
    assert index.match(make_post("hi", handle="alice")) == {7}
    assert index.match(make_post("hi", handle="x", author_id="did:plc:BOB")) == {7}
    assert index.match(make_post("hi", handle="carol", is_reply=True)) == set()
    assert index.match(make_post("hi", handle="carol")) == {8}
    exact, checks, _ = index._state(index._always)
    assert not exact and not checks


def test_learning_frequencies_moves_the_anchor_to_the_rarer_term():
    index = RuleIndex()
    index.learn([make_post("common words everywhere") for _ in range(300)] + [make_post("rare")])
    index.add(1, parse("common rare"))
    assert "rare" in index._table and "common" not in index._table
