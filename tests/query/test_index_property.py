"""The index gives exactly the answers of the reference evaluator, through adds, replaces, removes."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.query import RuleIndex, matches, normalize, parse, prepare
from tests.query.strategies import posts, rule_nodes

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def expected(rules, post):
    return {rid for rid, node in rules.items() if matches(node, post)}


@SETTINGS
@given(
    st.lists(rule_nodes, min_size=1, max_size=25),
    st.lists(posts, min_size=1, max_size=6),
    st.lists(st.tuples(st.sampled_from(["remove", "replace", "add"]), st.integers(0, 30), rule_nodes), max_size=8),
    st.booleans(),
)
def test_index_agrees_with_the_evaluator(nodes, sample, changes, learned):
    index = RuleIndex()
    if learned:
        index.learn(sample * 50)  # real frequencies: anchors differ from the prior's
    rules = dict(enumerate(nodes))
    for rid, node in rules.items():
        index.add(rid, node)
    prepared = [prepare(post) for post in sample]
    for post in prepared:
        assert index.match(post) == expected(rules, post)
    for op, rid, node in changes:
        if op == "remove":
            assert index.remove(rid) == (rules.pop(rid, None) is not None)
        elif op == "replace" or rid not in rules:
            index.replace(rid, node)
            rules[rid] = node
        for post in prepared:
            assert index.match(post) == expected(rules, post)
    assert len(index) == len(rules)


@settings(max_examples=200, deadline=None)
@given(rule_nodes)
def test_normalize_round_trips_any_tree(node):
    text = normalize(node)
    assert parse(text, scoped=True) == node


@settings(max_examples=200, deadline=None)
@given(rule_nodes, posts)
def test_normalized_text_matches_like_the_tree(node, post):
    assert matches(parse(normalize(node), scoped=True), post) == matches(node, post)
