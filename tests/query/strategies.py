"""Hypothesis strategies for rule trees and posts over a small vocabulary, so that rules match."""

from __future__ import annotations

from hypothesis import strategies as st

from app.query.nodes import (
    And,
    Followers,
    From,
    Has,
    Hashtag,
    Is,
    Label,
    Lang,
    Mention,
    Node,
    Not,
    Or,
    Phrase,
    To,
    Url,
    Word,
)
from tests.query.posts import make_post

WORDS = ["coffee", "tea", "latte", "art", "cafe", "or"]
TAGS = ["coffee", "tea", "cafe"]
HANDLES = ["alice", "bob", "carol", "id-3"]
HOSTS = ["example.com", "a.example.com", "other.org", "com"]
COUNTS = [0, 10, 100, 5000]
LABELS = ["spam", "porn", "!warn"]
CJK = ["珈", "琲", "コ", "ー"]  # one token each; the index anchors their phrases on pairs

leaf_nodes = st.one_of(
    st.sampled_from(WORDS).map(Word),
    st.lists(st.sampled_from(WORDS), min_size=2, max_size=3).map(lambda ts: Phrase(tuple(ts))),
    st.sampled_from(CJK).map(Word),
    st.lists(st.sampled_from(CJK), min_size=2, max_size=3).map(lambda ts: Phrase(tuple(ts))),
    st.sampled_from(TAGS).map(Hashtag),
    st.sampled_from(HANDLES).map(Mention),
    st.sampled_from(HANDLES).map(From),
    st.sampled_from(HANDLES).map(To),
    st.sampled_from(HOSTS).map(Url),
    st.sampled_from(["en", "pt", "pt-br", "it"]).map(Lang),
    st.sampled_from(["reply", "repost", "quote", "bot", "sensitive"]).map(Is),
    st.sampled_from(["links", "media", "hashtags", "mentions", "cw"]).map(Has),
    st.sampled_from(LABELS).map(Label),
    st.tuples(st.sampled_from(COUNTS), st.sampled_from([None, *COUNTS])).map(
        lambda lh: Followers(min(lh[0], lh[1] if lh[1] is not None else lh[0]), lh[1])
    ),
)


def _and(items: list[Node]) -> Node:
    flat = [c for item in items for c in (item.children if isinstance(item, And) else (item,))]
    return And(tuple(flat))


def _or(items: list[Node]) -> Node:
    flat = [c for item in items for c in (item.children if isinstance(item, Or) else (item,))]
    return Or(tuple(flat))


def _not(item: Node) -> Node:
    return item.child if isinstance(item, Not) else Not(item)


# Trees in the parser's canonical shape: no And directly in And, no Or in Or, no double negation.
rule_nodes = st.recursive(
    leaf_nodes,
    lambda inner: st.one_of(
        inner.map(_not),
        st.lists(inner, min_size=2, max_size=4).map(_and),
        st.lists(inner, min_size=2, max_size=3).map(_or),
    ),
    max_leaves=8,
)

_TEXT_PIECES = ["coffee", "Café", "TEA", "latte-art", "art", "latte", "or", "#coffee", "milk", "https://x.com/tea",
               "珈琲", "コーヒー", "琲 珈", "コ珈琲art"]
_maybe_bool = st.sampled_from([None, True, False])

posts = st.builds(
    lambda words, tags, mentions, handle, lang, reply, repost, quote, bot, media, followers, urls, to, ids, to_id,
    marks:
    make_post(
        " ".join(words), handle=handle, author_id="id-3" if handle == "dora" else "id-9",
        hashtags=tags, mentions=mentions, lang=lang, is_reply=reply, is_repost=repost, is_quote=quote,
        media_count=media, urls=urls, reply_to_author=to, mention_ids=ids, reply_to_author_id=to_id,
        content_warning=marks[0], sensitive=marks[1], labels=marks[2],
        author={"is_bot": bot, "followers_count": followers, "labels": marks[3]},
    ),
    st.lists(st.sampled_from(_TEXT_PIECES), max_size=8),
    st.lists(st.sampled_from(["Coffee", "#tea", "Café", "other"]), max_size=3),
    st.lists(st.sampled_from(["@Alice", "bob", "carol.bsky.social"]), max_size=2),
    st.sampled_from(["alice", "Bob", "dora"]),
    st.sampled_from([None, "en", "pt", "pt-BR", "it"]),
    _maybe_bool, _maybe_bool, _maybe_bool, _maybe_bool,
    st.sampled_from([None, 0, 3]),
    st.sampled_from([None, *COUNTS, 50]),
    st.lists(st.sampled_from(["https://a.example.com/x", "http://other.org/", "example.net", "https://Example.com",
                              "//A.Example.com/p", "HTTPS://user@Other.org:8080/x?y#z", "mailto:bob@other.org",
                              "https://bücher.example.com/", "not a url"]), max_size=2),
    st.sampled_from([None, "carol", "@Alice"]),
    # the ids of mentioned and replied-to authors, as adapters give them (`@id-3`, `to:id-3`)
    st.lists(st.sampled_from(["id-3", "ID-9", "did:plc:x"]), max_size=2),
    st.sampled_from([None, "id-3", "Id-9"]),
    # content warning, sensitive, the post's labels and its author's (None: the platform did not say)
    st.tuples(st.sampled_from([None, "", "spoilers", "CW: Café"]), _maybe_bool,
              st.lists(st.sampled_from(["Spam", "porn", "!warn", "Naïve"]), max_size=2),
              st.one_of(st.none(), st.lists(st.sampled_from(["spam", "PORN", "Späm"]), max_size=2))),
)
