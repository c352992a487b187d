"""The index gives exactly the answers of the reference evaluator, through adds, replaces, removes."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.query import RuleIndex, matches, normalize, parse, prepare
from app.query import index as index_module
from app.query.nodes import MatchAll
from app.query.tokens import fold_handle
from tests.query.posts import make_post
from tests.query.strategies import posts, rule_nodes

# The C loop (when built) and the Python loop both answer like the evaluator.
LOOPS = [True, False] if index_module.NATIVE else [False]
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# A rule's scope as a set of people (handles or ids, any case), or None for anyone.
people = st.sampled_from(["Alice", "@bob", "id-3", "dora", "nobody"])
scopes = st.one_of(st.none(), st.none(), st.lists(people, max_size=3))
rules = st.tuples(st.one_of(rule_nodes, st.just(MatchAll())), scopes)


def expected(rules, post):
    """The reference: the evaluator, and the author in the scope when there is one."""
    author = {fold_handle(post.post.author.handle), fold_handle(post.post.author.id)}
    return {
        rid for rid, (node, scope) in rules.items()
        if matches(node, post) and (scope is None or bool(author & {fold_handle(a) for a in scope}))
    }


@SETTINGS
@given(
    st.lists(rules, min_size=1, max_size=25),
    st.lists(posts, min_size=1, max_size=6),
    st.lists(st.tuples(st.sampled_from(["remove", "replace", "add"]), st.integers(0, 30), rules), max_size=8),
    st.booleans(),
    st.sampled_from(LOOPS),
)
def test_index_agrees_with_the_evaluator(initial, sample, changes, learned, native):
    index = RuleIndex(native=native)
    if learned:
        index.learn(sample * 50)  # real frequencies: anchors differ from the prior's
    rules = dict(enumerate(initial))
    for rid, (node, scope) in rules.items():
        index.add(rid, node, authors=scope)
    prepared = [prepare(post) for post in sample]
    for post in prepared:
        assert index.match(post) == expected(rules, post)
    for op, rid, rule in changes:
        if op == "remove":
            assert index.remove(rid) == (rules.pop(rid, None) is not None)
        elif op == "replace" or rid not in rules:
            index.replace(rid, rule[0], authors=rule[1])
            rules[rid] = rule
        for post in prepared:
            assert index.match(post) == expected(rules, post)
    assert len(index) == len(rules)


def test_add_twice_is_refused_and_remove_of_unknown_is_false():
    index = RuleIndex()
    index.add(1, parse("coffee"))
    with pytest.raises(ValueError):
        index.add(1, parse("tea"))
    assert index.remove(2) is False
    assert 1 in index and len(index) == 1


def test_empty_scope_never_matches():
    index = RuleIndex()
    index.add(1, MatchAll(), authors=[])
    assert index.match(make_post("anything")) == set()


@settings(max_examples=200, deadline=None)
@given(rule_nodes)
def test_normalize_round_trips_any_tree(node):
    text = normalize(node)
    assert parse(text, scoped=True) == node


@settings(max_examples=200, deadline=None)
@given(rule_nodes, posts)
def test_normalized_text_matches_like_the_tree(node, post):
    assert matches(parse(normalize(node), scoped=True), post) == matches(node, post)
