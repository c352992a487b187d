"""The C extension holds memory flat: the same call repeated leaks no reference and no object.

Each case runs a call (and its error paths) many times over the same inputs after a warm-up
that fills the memos, then compares the reference counts of every input and the memory traced
by tracemalloc: a missing Py_DECREF shows as a count that grew, a leaked new object as memory
that grew by at least its size per call. (A debug CPython with sys.gettotalrefcount would count
every reference; this one is a release build.)
"""

from __future__ import annotations

import gc
import sys
import tracemalloc
from array import array
from collections.abc import Callable

import pytest

from app.query import prepare, tokens
from app.query.native import native
from tests.query.posts import make_post
from tests.query.test_native import needs_c

CALLS = 2_000
WARM_UP = 200
# A leaked object per call is 28 bytes at the least (an int); allow a few bytes for interpreter
# caches that grow once in a while.
BYTES_PER_CALL = 8


def assert_flat(call: Callable[[], object], *held: object) -> None:
    """Run `call` CALLS times: the reference counts of `held` and the traced memory do not grow."""
    for _ in range(WARM_UP):
        call()
    gc.collect()
    tracemalloc.start()
    try:
        refs = [sys.getrefcount(obj) for obj in held]
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(CALLS):
            call()
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert [sys.getrefcount(obj) for obj in held] == refs, "a reference to an input leaked"
    assert grown < CALLS * BYTES_PER_CALL, f"{grown} bytes more after {CALLS} calls"


def raising(call: Callable[[], object], error: type[BaseException]) -> Callable[[], None]:
    """`call`, which must raise `error`, as a call that swallows it."""

    def run() -> None:
        with pytest.raises(error):
            call()

    return run


def rest(post: object) -> bool:
    return True


def _views():
    """Views with every part a check can have: need, avoid, rest, ids, phrases, a followers
    range, absent phrases, alternatives; ids above 256 (small ints are cached, never new)."""
    checks = (
        (("tea",), ("decaf",), rest, array("q", [10_001, 10_002]), (("flat", "white"),), 0, -1, (("no", "milk"),),
         (frozenset({"latte", "art"}),)),
        (("latte",), None, None, (10_003,), (), -1, -1, (), ()),
    )
    return checks, native.pack((10_000,), checks, "state")


def test_match_leaks_nothing():
    needs_c()
    checks, view = _views()
    table, shards = native.KeyIndex(), tuple(native.KeyIndex() for _ in range(16))
    table["tea"] = view
    shards[hash("from:someone") & 15]["from:someone"] = view
    always = native.pack((), (), None)
    p = prepare(make_post("Tea, flat white latte art", author={"followers_count": 10}))

    def call():
        return native.match(p, p.tokens, p.extra_keys, p.author_keys, table, shards, always, p.followers)

    assert call() == {10_000, 10_001, 10_002, 10_003}
    assert_flat(call, p, p.tokens, p.extra_keys, view, rest, always, table, *checks[0])
    failing = native.KeyIndex()
    failing["tea"] = "not a view"
    assert_flat(raising(lambda: native.match(p, p.tokens, p.extra_keys, (), failing, shards, always, None), TypeError),
                p, p.tokens, p.extra_keys, failing)
    assert_flat(raising(lambda: native.match(p, p.tokens, p.extra_keys, (), table, shards, always, "ten"), TypeError),
                p, p.tokens)


def test_pack_leaks_nothing():
    needs_c()
    checks, _ = _views()
    exact = array("q", [20_000, 20_001])
    assert_flat(lambda: native.pack(exact, checks, "state"), exact, checks, rest, *checks[0])
    # the second check is malformed after the first was packed: what the first took is released
    broken = (checks[0], (("tea",), None, rest, (1,), (), -1, -1, (), ("not a frozenset",)))
    assert_flat(raising(lambda: native.pack(exact, broken, "state"), TypeError), exact, broken, rest, *checks[0])


def test_post_keys_and_tokenize_leak_nothing():
    needs_c()
    post = make_post("Café 東京の珈琲 flat white https://x.example.org/a", handle="Zoë", hashtags=["Thé", "tea"],
                     mentions=["Bob"], mention_ids=["109"], urls=["https://x.example.org/a"], reply_to_author="Åsa",
                     lang="pt-BR", is_reply=True, media_count=2)
    found = tokens.tokenize(post.text)
    assert_flat(lambda: native.post_keys(post, found), post, found, post.hashtags, post.author)
    assert_flat(lambda: tokens.tokenize(post.text), post.text, tokens._CHUNKS)
    unfolded = "\u02bbOkina \u01c5 \ufb03 \u2177 x\u0301"  # U+FB03 is outside the C fold table: Python folds it
    assert_flat(lambda: tokens.tokenize(unfolded), unfolded, tokens._CHUNKS)
    assert_flat(lambda: native.cjk_pairs(found), found)
    refused = post.model_copy(update={"urls": "not a list"})
    assert_flat(raising(lambda: native.post_keys(refused, found), TypeError), refused, found)


def test_key_index_leaks_nothing():
    needs_c()
    table, value = native.KeyIndex(), object()
    keys = [f"key{i}" for i in range(100)]

    def call():
        for key in keys:
            table[key] = value
        for key in keys[::2]:
            table.pop(key)
        for key in keys[1::2]:
            del table[key]

    assert_flat(call, table, value, *keys)
