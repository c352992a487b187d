"""The C extension against Python on generated input, and against hostile input it must refuse.

Runs in the ordinary test run, and again under AddressSanitizer and UndefinedBehaviorSanitizer
(tests/query/test_sanitized.py), where a read out of bounds or of a freed object fails the run:
hence the callbacks below that change, in the middle of a call, what the C code is reading.
"""

from __future__ import annotations

import gc
from array import array
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.query import index, prepare, prepared, tokens
from app.query.native import native
from tests.query.posts import make_post
from tests.query.test_native import needs_c

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Characters from every class the tokenizer treats apart: ASCII letters, digits, punctuation and
# whitespace, accented and combining letters, other scripts, Han and kana, non-ASCII spaces,
# characters outside the C fold table, and the pieces of links.
_ALPHABET = st.sampled_from(
    [*"aZ09_#@.:/-' \t\n", "é", "É", "ß", "ﬁ", "İ", "\u0301", "ж", "ع", "한", "東", "京", "ア", "ｱ", "\u00a0",
     "\u3000", "\u2028", "😀", "\U00020000", "\U0010ffff", "Ⅻ", "½", "²"]
)
_TEXT = st.one_of(
    st.text(_ALPHABET, max_size=60),
    st.lists(st.sampled_from(["http://", "https://x.y", "www.", "ftp://", "wWw.a", "é", " ", "東京", "a"]),
             max_size=8).map("".join),
)


@FUZZ
@given(_TEXT)
def test_tokenize_in_c_equals_python_on_generated_text(text):
    needs_c()
    assert tokens.tokenize(text) == tokens._split(text)
    assert tokens.cjk_pairs(tokens.tokenize(text)) == tokens._cjk_pairs_py(tokens._split(text))


# Garbage for pack(): right and wrong types at every place of a check.
_LEAF = st.one_of(
    st.none(), st.integers(-(2**70), 2**70), st.sampled_from(["a", "b", "", "東"]),
    st.frozensets(st.sampled_from(["a", "b"]), max_size=2),
    st.builds(lambda n: array("q", range(n)), st.integers(0, 3)),
    st.builds(lambda n: array("i", range(n)), st.integers(0, 3)), st.just(len),
)
_VALUE = st.recursive(
    _LEAF, lambda inner: st.tuples(inner, inner) | st.lists(inner, max_size=3).map(tuple), max_leaves=6
)
_GOOD_CHECK = st.tuples(
    st.lists(st.sampled_from(["a", "b", "c"]), max_size=2).map(tuple),
    st.one_of(st.none(), st.lists(st.sampled_from(["b", "d"]), max_size=2).map(tuple)),
    st.sampled_from([None, bool, lambda post: True]),
    st.one_of(st.lists(st.integers(0, 99), max_size=3).map(tuple),
              st.lists(st.integers(0, 99), max_size=3).map(lambda ids: array("q", ids))),
    st.sampled_from([(), (("a", "b"),), (("c",),)]),
    st.sampled_from([-1, 0, 10]), st.sampled_from([-1, 5, 100]),
    st.sampled_from([(), (("b", "a"),)]),
    st.sampled_from([(), (frozenset({"a", "d"}),)]),
)
_CHECK = st.one_of(_GOOD_CHECK, _VALUE, st.lists(_VALUE, min_size=9, max_size=9).map(tuple))


@FUZZ
@given(st.one_of(_VALUE, st.lists(st.integers(0, 99), max_size=3).map(tuple)), st.lists(_CHECK, max_size=4).map(tuple),
       st.lists(st.sampled_from(["a", "b", "c", "d", "東京"]), max_size=5))
def test_pack_refuses_what_is_malformed_and_packs_what_match_can_read(exact, checks, post_tokens):
    needs_c()
    try:
        view = native.pack(exact, checks, {"state": 1})
    except (TypeError, ValueError, OverflowError):
        return
    assert view.state == {"state": 1}
    table = native.KeyIndex()
    found = native.match(object(), post_tokens, [], (), table, (native.KeyIndex(),), view, 7)
    assert found >= set(exact if isinstance(exact, tuple) else ())


_WORDS = ["tea", "latte", "art", "東", "京", "x"]


def _phrases(draw, found, max_size):
    """Phrases that occur, that almost occur (the post's last tokens and one more), and others."""
    windows = [tuple(found[i:j]) for i in range(len(found)) for j in range(i + 1, len(found) + 1)]
    near_misses = [(*found[i:], word) for i in range(len(found)) for word in _WORDS[:2]]
    pick = st.sampled_from(windows + near_misses) if found else st.nothing()
    phrase = st.one_of(pick, st.lists(st.sampled_from(_WORDS), min_size=1, max_size=3).map(tuple))
    return tuple(draw(st.lists(phrase, max_size=max_size)))


@st.composite
def _check(draw, p, pool):
    """A published check (need, avoid, rest, ids, phrases, low, high, absent, any_of) over `pool`."""
    keys = st.lists(st.sampled_from(pool), max_size=2).map(tuple)
    rest = draw(st.sampled_from([None, lambda post: len(post.tokens) % 2 == 0, lambda post: "tea" in post.tokens]))
    ids = draw(st.lists(st.integers(0, 50), max_size=3).map(lambda ids: array("q", sorted(set(ids)))))
    low, high = draw(st.sampled_from([(-1, -1), (0, -1), (10, 100), (1000, -1), (0, 5)]))
    any_of = draw(st.lists(st.frozensets(st.sampled_from(pool), min_size=1, max_size=3), max_size=2).map(tuple))
    return (draw(keys), draw(st.one_of(st.none(), keys)), rest, ids, _phrases(draw, p.tokens, 2), low, high,
            _phrases(draw, p.tokens, 1), any_of)


@FUZZ
@given(st.data())
def test_match_in_c_equals_the_python_loop_on_generated_views(data):
    """Views made up from the post's own keys and phrases, read by both loops."""
    needs_c()
    text = " ".join(data.draw(st.lists(st.sampled_from(_WORDS), max_size=8)))
    followers = data.draw(st.sampled_from([None, 0, 50, 2**70]))
    p = prepare(make_post(text, author={"followers_count": followers}, hashtags=["tea"], lang="en"))
    pool = [*sorted(p.keys), "missing", "lang:fr"]
    state = st.tuples(st.lists(st.integers(0, 50), max_size=2).map(tuple),
                      st.lists(_check(p, pool), max_size=3).map(tuple), st.just({}))
    table = data.draw(st.dictionaries(st.sampled_from(pool), state, max_size=6))
    by_author = data.draw(st.dictionaries(st.sampled_from([*p.author_keys, "from:nobody"]), state, max_size=2))
    always = data.draw(state)
    shards_py = tuple({} for _ in range(index.AUTHOR_SHARDS))
    shards_c = tuple(native.KeyIndex() for _ in range(index.AUTHOR_SHARDS))
    table_c = native.KeyIndex()
    for key, view in table.items():
        table_c[key] = native.pack(view[0], view[1], view)
    for key, view in by_author.items():
        shards_py[hash(key) & (index.AUTHOR_SHARDS - 1)][key] = view
        shards_c[hash(key) & (index.AUTHOR_SHARDS - 1)][key] = native.pack(view[0], view[1], view)
    found = native.match(p, p.tokens, p.extra_keys, p.author_keys, table_c, shards_c,
                         native.pack(always[0], always[1], always), p.followers)
    assert found == index._match_py(p, p.keys, p.author_keys, table, shards_py, always)


def _view(ids, rest=None, need=()):
    return native.pack(tuple(ids), ((tuple(need), None, rest, (), (), -1, -1, (), ()),), None)


def test_match_holds_what_it_reads_while_a_rest_callback_changes_it():
    """A rest() that empties the post's key lists, drops every view (resizing the table) and
    collects garbage: match reads on from its own references and finds what was there."""
    needs_c()
    words = ["".join(["w", str(i)] * 3) for i in range(6)]  # made at run time: not interned
    post_tokens, post_keys = words[:4], words[4:]
    table = native.KeyIndex()

    def rest(post):
        post_tokens.clear()
        post_keys.clear()
        for key in table.keys():  # noqa: SIM118 - a KeyIndex is not iterable; keys() is a list
            del table[key]
        for i in range(64):
            table[f"filler{i}"] = _view([])
        gc.collect()
        return True

    for i, word in enumerate(words):
        view = native.pack((i,), (((word,), None, rest, (100 + i,), (), -1, -1, (), ()),), None)
        table[word] = view
    del view
    found = native.match(object(), post_tokens, post_keys, (), table, (native.KeyIndex(),), _view([]), None)
    assert len(found) == 2 and {i + 100 for i in found if i < 100} == {i for i in found if i >= 100}


def test_a_view_whose_rest_reaches_the_index_is_collected():
    """A rest closure that refers to the table holding its view is a cycle the GC must see."""
    needs_c()

    class Marker:
        pass

    def make_cycle():
        table, marker = native.KeyIndex(), Marker()
        table["k"] = _view([1], rest=lambda post: table is not None and marker is not None)
        return marker

    import weakref

    gc.collect()
    gone = weakref.ref(make_cycle())
    gc.collect()
    assert gone() is None


class _Boom:
    """A value whose truth, hash and equality raise: every place that tests it must pass the error on."""

    def __bool__(self):
        raise ZeroDivisionError("bool")

    def __hash__(self):
        raise ZeroDivisionError("hash")

    def __eq__(self, other):
        raise ZeroDivisionError("eq")


def _fields(post):
    """A post as a plain object with the fields post_keys reads, the author likewise."""
    fields = {name: getattr(post, name) for name in type(post).model_fields}
    fields["author"] = SimpleNamespace(**{name: getattr(post.author, name) for name in type(post.author).model_fields})
    return fields


@pytest.mark.parametrize("where", ["reply_to_author", "reply_to_author_id", "media_count", "lang", "hashtags",
                                   "mentions", "mention_ids", "urls", "author.handle", "author.id",
                                   "content_warning", "sensitive", "labels", "author.labels"])
@pytest.mark.parametrize("bad", [_Boom(), [_Boom()], 1.5, None])
def test_post_keys_passes_errors_on_as_python_does(where, bad):
    """A field whose truth, hash or type is wrong: C raises when Python raises (never a
    SystemError for a result returned with an exception set) and agrees with it otherwise."""
    needs_c()
    post = make_post("Tea 東京 #tea", hashtags=["tea"], mentions=["bob"], urls=["https://a.example.com/x"],
                     reply_to_author="carol", lang="en", labels=["spam"], content_warning="cw",
                     author={"labels": ["bot"]})
    fields = _fields(post)
    owner, _, name = where.rpartition(".")
    if owner:
        setattr(fields["author"], name, bad)
    else:
        fields[name] = bad
    fake = SimpleNamespace(**fields)
    found = tokens._split(post.text)
    try:
        expected = prepared._post_keys_py(fake, found)
    except Exception as error:  # noqa: BLE001 - whatever Python raises, C must raise too
        with pytest.raises(Exception) as raised:
            native.post_keys(fake, found)
        assert not isinstance(raised.value, SystemError), raised.value
        assert type(error) is ZeroDivisionError or type(raised.value) is not ZeroDivisionError
        return
    try:
        keys, author_keys = native.post_keys(fake, found)
    except TypeError:
        return  # C is stricter on types (a list of hashtags, of urls); never looser
    assert set(keys) == set(expected[0]) and author_keys == expected[1]


def test_post_keys_holds_what_it_passes_while_a_callback_replaces_the_context():
    """remember() may call set_key_context() and so release the memos and the remember() it was
    given: post_keys goes on with the new context and reads nothing that was released."""
    needs_c()
    real = (prepared._TAGS, prepared._MENTIONS, prepared._FROM, prepared._TO, prepared._LANGS,
            prepared._remember, prepared._lang_keys, prepared._host_keys, prepared._FLAG_NAMES, prepared._LABELS)

    def swapping_remember():
        def remember(memo, prefix, raw):
            native.set_key_context({}, {}, {}, {}, {}, swapping_remember(), *real[6:9], {})
            gc.collect()
            return prefix + tokens.fold_handle(raw)

        return remember

    post = make_post("x", handle="Zoë", author_id="Åsa", hashtags=["Café"], is_reply=True, lang="en",
                     labels=["Naïve"], author={"labels": ["Späm"]})
    try:
        # only the context holds these memos and this remember(): each miss releases them
        native.set_key_context({}, {}, {}, {}, {}, swapping_remember(), *real[6:9], {})
        keys, author_keys = native.post_keys(post, ["x"])
    finally:
        native.set_key_context(*real)
    assert "is:reply" in keys and "#cafe" in keys and author_keys == ("from:zoe", "from:asa")
    assert {"label:naive", "label:spam"} <= set(keys)


def test_match_refuses_keys_that_are_not_str():
    needs_c()
    args = ((), native.KeyIndex(), (native.KeyIndex(),), _view([]), None)

    class Key(str):
        pass

    for token_list, key_list in ((["a", 1], []), ([], [Key("a")]), (["a"], [None])):
        with pytest.raises(TypeError):
            native.match(object(), token_list, key_list, *args)
    with pytest.raises(TypeError):
        native.match(object(), [], [], (Key("a"),), *args[1:])
