"""Compiling a query tree for the index: anchor keys, partial evaluation, fast predicates.

A *key* is `(namespace, value)`, something a PreparedPost either has or has not:
`w` token, `h` hashtag, `m` mention, `a` author handle or id, `t` replied-to author,
`u` linked host (or parent domain), `l` language (or its primary subtag), `f` an `is:`/`has:` flag.
Most leaves are exactly "the post has key k"; phrases only need the keys of their tokens.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from operator import attrgetter

from app.query.nodes import (
    And, Followers, From, Has, Hashtag, Is, Lang, MatchAll, Mention, Node, Not, Or, Phrase, To, Url, Word,
)
from app.query.prepared import PreparedPost

Key = tuple[str, str]
Predicate = Callable[[PreparedPost], bool]

# The PreparedPost attribute holding each namespace's values (`t` is a single value, not a set).
NAMESPACE_ATTRS = {"w": "token_set", "h": "hashtags", "m": "mentions", "a": "authors",
                   "u": "hosts", "l": "langs", "f": "flags"}
_GETTERS = {ns: attrgetter(attr) for ns, attr in NAMESPACE_ATTRS.items()}


def leaf_key(node: Node) -> Key | None:
    """The key whose presence in a post is exactly the truth of this leaf, if there is one."""
    match node:
        case Word(token=value):
            return ("w", value)
        case Hashtag(tag=value):
            return ("h", value)
        case Mention(handle=value):
            return ("m", value)
        case From(handle=value):
            return ("a", value)
        case To(handle=value):
            return ("t", value)
        case Url(host=value):
            return ("u", value)
        case Lang(code=value):
            return ("l", value)
        case Is(kind=kind):
            return ("f", f"is:{kind}")
        case Has(kind=kind):
            return ("f", f"has:{kind}")
    return None


def choose_anchors(node: Node, cost: Callable[[Key], float]) -> tuple[list[Key], float] | None:
    """Keys of which every post matching the node has at least one, chosen to be rare; None if none."""
    key = leaf_key(node)
    if key is not None:
        return [key], cost(key)
    if isinstance(node, Phrase):
        rarest = min((("w", token) for token in node.tokens), key=cost)
        return [rarest], cost(rarest)
    if isinstance(node, And):
        options = [found for child in node.children if (found := choose_anchors(child, cost))]
        return min(options, key=lambda option: option[1]) if options else None
    if isinstance(node, Or):
        options = [choose_anchors(child, cost) for child in node.children]
        if not all(options):
            return None
        keys = list(dict.fromkeys(key for option in options for key in option[0]))
        return keys, sum(option[1] for option in options)
    return None


def residual(node: Node, key: Key) -> Node | bool:
    """The node simplified for posts known to have `key` (True/False when that decides it)."""
    if isinstance(node, Not):
        inner = residual(node.child, key)
        return (not inner) if isinstance(inner, bool) else Not(inner, node.pos)
    if isinstance(node, (And, Or)):
        return _residual_group(node, key)
    if isinstance(node, MatchAll):
        return True
    return True if leaf_key(node) == key else node


def _residual_group(node: And | Or, key: Key) -> Node | bool:
    decisive = isinstance(node, Or)  # the value that settles the group at once
    kept: list[Node] = []
    for child in node.children:
        inner = residual(child, key)
        if inner is decisive:
            return decisive
        if not isinstance(inner, bool):
            kept.append(inner)
    if not kept:
        return not decisive
    return kept[0] if len(kept) == 1 else type(node)(tuple(kept), node.pos)


_CACHE: weakref.WeakValueDictionary[Node, Predicate] = weakref.WeakValueDictionary()


def predicate(node: Node) -> Predicate:
    """A fast test of the node on a PreparedPost; equal nodes share one function."""
    found = _CACHE.get(node)
    if found is None:
        found = _CACHE[node] = _compile(node)
    return found


def _compile(node: Node) -> Predicate:
    if isinstance(node, And):
        return _all_of(_literal_checks(node.children) + [predicate(c) for c in node.children if not _literal(c)])
    if isinstance(node, Or):
        return _any_of(_any_key_checks(node.children) + [predicate(c) for c in node.children if not _positive(c)])
    if isinstance(node, Not):
        inner = predicate(node.child)
        return lambda p: not inner(p)
    return _leaf_predicate(node)


def _leaf_predicate(node: Node) -> Predicate:
    if isinstance(node, Phrase):
        tokens = node.tokens
        return lambda p: p.has_phrase(tokens)
    if isinstance(node, Followers):
        low, high = node.low, node.high if node.high is not None else float("inf")
        return lambda p: p.followers is not None and low <= p.followers <= high
    if isinstance(node, MatchAll):
        return lambda p: True
    ns, value = leaf_key(node)  # type: ignore[misc]
    if ns == "t":
        return lambda p: p.reply_to == value
    get = _GETTERS[ns]
    return lambda p: value in get(p)


def _positive(node: Node) -> bool:
    """A leaf that is one key held in a set (everything but to:, phrases and followers)."""
    key = leaf_key(node)
    return key is not None and key[0] != "t"


def _literal(node: Node) -> bool:
    """A positive set leaf or the negation of one."""
    return _positive(node.child if isinstance(node, Not) else node)


def _literal_checks(children: tuple[Node, ...]) -> list[Predicate]:
    """One subset / disjointness test per namespace for the set literals of an AND."""
    required: dict[str, set[str]] = {}
    forbidden: dict[str, set[str]] = {}
    for child in filter(_literal, children):
        target = forbidden if isinstance(child, Not) else required
        ns, value = leaf_key(child.child if isinstance(child, Not) else child)  # type: ignore[misc]
        target.setdefault(ns, set()).add(value)
    checks = [_subset(_GETTERS[ns], frozenset(values)) for ns, values in required.items()]
    return checks + [_disjoint(_GETTERS[ns], frozenset(values)) for ns, values in forbidden.items()]


def _any_key_checks(children: tuple[Node, ...]) -> list[Predicate]:
    """One intersection test per namespace for the positive set leaves of an OR."""
    wanted: dict[str, set[str]] = {}
    for child in filter(_positive, children):
        ns, value = leaf_key(child)  # type: ignore[misc]
        wanted.setdefault(ns, set()).add(value)
    return [_intersects(_GETTERS[ns], frozenset(values)) for ns, values in wanted.items()]


def _subset(get: Callable[[PreparedPost], frozenset[str]], values: frozenset[str]) -> Predicate:
    if len(values) == 1:
        (value,) = values
        return lambda p: value in get(p)
    return lambda p: values <= get(p)


def _disjoint(get: Callable[[PreparedPost], frozenset[str]], values: frozenset[str]) -> Predicate:
    if len(values) == 1:
        (value,) = values
        return lambda p: value not in get(p)
    return lambda p: values.isdisjoint(get(p))


def _intersects(get: Callable[[PreparedPost], frozenset[str]], values: frozenset[str]) -> Predicate:
    if len(values) == 1:
        (value,) = values
        return lambda p: value in get(p)
    return lambda p: not values.isdisjoint(get(p))


def _all_of(checks: list[Predicate]) -> Predicate:
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda p: first(p) and second(p)
    if len(checks) == 3:
        first, second, third = checks
        return lambda p: first(p) and second(p) and third(p)
    return _every(tuple(checks))


def _every(checks: tuple[Predicate, ...]) -> Predicate:
    def every(p: PreparedPost) -> bool:
        for check in checks:
            if not check(p):
                return False
        return True

    return every


def _any_of(checks: list[Predicate]) -> Predicate:
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda p: first(p) or second(p)
    return _some(tuple(checks))


def _some(checks: tuple[Predicate, ...]) -> Predicate:
    def some(p: PreparedPost) -> bool:
        for check in checks:
            if check(p):
                return True
        return False

    return some
