"""The reference evaluator (one rule, one post, walking the tree) and `explain`.

The index must give exactly the answers of `matches`; keep this module simple and obvious.
Null semantics: an unknown field never satisfies a positive test, so its negation holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.platforms.base import Post
from app.query.nodes import (
    And,
    Followers,
    From,
    Has,
    Hashtag,
    Is,
    Label,
    Lang,
    MatchAll,
    Mention,
    Node,
    Not,
    Or,
    Phrase,
    To,
    Url,
    Word,
    leaves,
)
from app.query.normalize import term_text
from app.query.prepared import PreparedPost, prepare


def matches(node: Node, post: Post | PreparedPost) -> bool:
    """Whether the query holds for the post."""
    return _holds(node, prepare(post))


def _holds(node: Node, p: PreparedPost) -> bool:
    return _TESTS[type(node)](node, p)


def _followers(node: Followers, p: PreparedPost) -> bool:
    count = p.followers
    return count is not None and count >= node.low and (node.high is None or count <= node.high)


_TESTS: dict[type, Callable[[Any, PreparedPost], bool]] = {
    Word: lambda n, p: n.token in p.token_set,
    Phrase: lambda n, p: p.has_phrase(n.tokens),
    Hashtag: lambda n, p: n.tag in p.hashtags,
    Mention: lambda n, p: n.handle in p.mentions,
    From: lambda n, p: n.handle in p.authors,
    To: lambda n, p: n.handle in p.reply_to,
    Url: lambda n, p: n.host in p.hosts,
    Lang: lambda n, p: n.code in p.langs,
    Is: lambda n, p: f"is:{n.kind}" in p.flags,
    Has: lambda n, p: f"has:{n.kind}" in p.flags,
    Label: lambda n, p: n.value in p.labels,
    Followers: _followers,
    Not: lambda n, p: not _holds(n.child, p),
    And: lambda n, p: all(_holds(child, p) for child in n.children),
    Or: lambda n, p: any(_holds(child, p) for child in n.children),
    MatchAll: lambda n, p: True,
}


@dataclass(frozen=True, slots=True)
class TermResult:
    """One leaf of the query: its text (with `-` when negated) and whether that condition held."""

    term: str
    held: bool


@dataclass(frozen=True, slots=True)
class Explanation:
    """Whether the query matched, and each term's result in query order."""

    matched: bool
    terms: list[TermResult] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """`{"matched": ..., "terms": [{"term": ..., "held": ...}]}` for the API."""
        return {"matched": self.matched, "terms": [{"term": t.term, "held": t.held} for t in self.terms]}


def explain(node: Node, post: Post | PreparedPost) -> Explanation:
    """Which terms held for the post and which did not, and the overall result.

    A term under a negation (`-a`, or inside `-(a OR b)`) is shown with its `-`, and `held`
    says whether the negated condition held.
    """
    p = prepare(post)
    terms = [
        TermResult(("-" if negated else "") + term_text(leaf), _holds(leaf, p) != negated)
        for leaf, negated in leaves(node)
    ]
    return Explanation(_holds(node, p), terms)
