"""The C loops (app.query._native) give exactly what their Python fallbacks give.

The index's own property test runs both loops (tests/query/test_index_property.py); here, the
tokenizer and the character tables are compared on every code point they cover. Under CI=true
the extension must have been built: a C compiler is part of the test machine.
"""

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.query import RuleIndex, index, parse, prepared, tokens
from app.query.native import native
from tests.ci import unavailable
from tests.query.posts import make_post
from tests.query.strategies import posts


def needs_c() -> None:
    """The C extension, for the tests comparing it with Python (in CI its absence fails)."""
    if native is None:
        unavailable("the C extension is not built (or REPOSTER_PURE_PYTHON is set)")


def test_the_extension_is_built_in_ci():
    if os.environ.get("CI") and not os.environ.get("REPOSTER_PURE_PYTHON"):
        assert native is not None, "app.query._native was not built (pip install -e . needs a C compiler)"
        assert index.NATIVE and RuleIndex().native


def test_every_foldable_code_point_tokenizes_as_in_python():
    """Each code point the C table covers, alone, between letters, around and inside a link."""
    needs_c()
    for cp in [cp for low, high in tokens._FOLD_RANGES for cp in range(max(low, 0x80), high)]:
        c = chr(cp)
        for text in (c, f"a{c}b", f"A{c}1 x", f"http://x{c}y z", f"{c}www.y.z w", f"x{c}http://y z", f"{c}{c}é"):
            assert tokens.tokenize(text) == tokens._split(text), (hex(cp), text)


def test_cjk_pairs_agree_on_every_code_point():
    needs_c()
    for cp in range(0x110000):
        if 0xD800 <= cp < 0xE000:
            continue
        pair = [chr(cp), chr(cp)]
        assert tokens.cjk_pairs(pair) == tokens._cjk_pairs_py(pair), hex(cp)


def test_both_loops_give_the_same_ids():
    needs_c()
    posts = [
        make_post("Flat white and latte art #coffee", handle="alice", hashtags=["coffee"], lang="en"),
        make_post("東京の珈琲", lang="ja"),
    ]
    rules = ["latte", '"latte art" -decaf', "#coffee OR tea", "珈琲", "from:alice lang:en", ""]
    loops = [RuleIndex(native=True), RuleIndex(native=False)]
    for loop in loops:
        for rid, query in enumerate(rules):
            loop.add(rid, parse(query, scoped=True))
    for post in posts:
        assert loops[0].match(post) == loops[1].match(post)
    assert loops[0].match(posts[0]) == {0, 1, 2, 4, 5}


def test_native_is_refused_when_not_built(monkeypatch):
    monkeypatch.setattr(index, "_c", None)
    with pytest.raises(RuntimeError, match="not built"):
        RuleIndex(native=True)


_HANDLES = ["alice", " @Bob ", "#Tag", "Zoë", "ÅSA", "did:plc:AbC", "\t@#x\n", "", "@", "名前"]


@settings(max_examples=300, deadline=None)
@given(
    posts,
    st.lists(st.sampled_from(_HANDLES), max_size=3),
    st.lists(st.sampled_from(_HANDLES), max_size=3),
    st.sampled_from(_HANDLES),
    st.sampled_from([None, "", "Bob", " @Zoë"]),
    st.lists(st.sampled_from(_HANDLES), max_size=3),
    st.sampled_from([None, "", "did:plc:AbC", "Zoë", "109"]),
)
def test_post_keys_in_c_equal_those_in_python(post, tags, mentions, handle, reply_to, mention_ids, reply_to_id):
    needs_c()
    post = post.model_copy(
        update={"hashtags": tags, "mentions": mentions, "reply_to_author": reply_to, "mention_ids": mention_ids,
                "reply_to_author_id": reply_to_id,
                "author": post.author.model_copy(update={"handle": handle})}
    )
    found = tokens._tokenize_py(post.text)
    keys, author_keys = native.post_keys(post, found)
    expected_keys, expected_author_keys = prepared._post_keys_py(post, found)
    assert set(keys) == set(expected_keys) and author_keys == expected_author_keys


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["set", "pop", "del"]), st.integers(0, 60), st.integers()), max_size=300))
def test_key_index_behaves_like_a_dict(ops):
    """Inserts, replaces, deletes (leaving deleted slots), resizes: the same as a dict."""
    needs_c()
    table, model = native.KeyIndex(), {}
    for op, n, value in ops:
        key = f"k{n}"
        if op == "set":
            table[key] = model[key] = value
        elif op == "pop":
            assert table.pop(key, None) == model.pop(key, None)
        elif key in model:
            del table[key], model[key]
        else:
            with pytest.raises(KeyError):
                del table[key]
        assert len(table) == len(model)
    assert sorted(table.keys()) == sorted(model)
    for n in range(61):
        key = f"k{n}"
        assert (key in table) == (key in model) and table.get(key) == model.get(key)
    with pytest.raises(TypeError):
        table[1] = "only str keys"
