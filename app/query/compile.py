"""Compiling a query tree for the index: anchor keys, partial evaluation, fast checks.

A *key* is one string of `PreparedPost.keys` (a token, `#tag`, `from:alice`, `lang:it`, ...).
Most leaves are exactly "the post has key k"; a phrase needs the keys of all its tokens and
then their order; `followers_count:` has no key.

A rule's test is compiled to a `Check`, `(need, avoid, rest)`: the post must have every key
of `need`, none of `avoid`, and pass `rest` (a closure, or None). What the index checks under
an anchor is an `IndexCheck`, which also carries as data what its C loop tests itself (phrases,
negated phrases, ORs of keys, follower ranges), so that most rules cost no Python call at all.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from typing import Any

from app.query.nodes import (
    NARROWING_PREFIXES,
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
)
from app.query.prepared import PreparedPost
from app.query.tokens import cjk_pairs, fold_handle

Predicate = Callable[[PreparedPost], bool]
Check = tuple[frozenset[str], "frozenset[str] | None", "Predicate | None"]
_NOTHING: frozenset[str] = frozenset()


def leaf_key(node: Node) -> str | None:
    """The key whose presence in a post is exactly the truth of this leaf, if there is one."""
    make = _KEY_OF.get(type(node))
    return None if make is None else make(node)


_KEY_OF: dict[type, Callable[[Any], str]] = {
    Word: lambda n: n.token,
    Hashtag: lambda n: "#" + n.tag,
    Mention: lambda n: "@" + n.handle,
    From: lambda n: "from:" + n.handle,
    To: lambda n: "to:" + n.handle,
    Url: lambda n: "url:" + n.host,
    Lang: lambda n: "lang:" + n.code,
    Is: lambda n: "is:" + n.kind,
    Has: lambda n: "has:" + n.kind,
    Label: lambda n: "label:" + n.value,
}
# Sets of narrowing keys (`{is:reply}`, `{lang:en, has:media}`) recur in thousands of checks:
# one shared object each saves memory and keeps them in the CPU cache. Their variety is small.
_NARROWING_SETS: dict[frozenset[str], frozenset[str]] = {}


def _shared(keys: set[str]) -> frozenset[str]:
    """The set as a frozenset, one object per distinct set of narrowing keys."""
    frozen = frozenset(keys)
    if len(_NARROWING_SETS) < 100_000 and all(key.startswith(NARROWING_PREFIXES) for key in frozen):
        return _NARROWING_SETS.setdefault(frozen, frozen)
    return frozen


def restrict_to_authors(node: Node, authors: Iterable[str]) -> Node | None:
    """The node, holding only for posts by one of `authors` (handles or ids); None if there are none."""
    handles = sorted({fold_handle(author) for author in authors} - {""})
    if not handles:
        return None
    scope: Node = From(handles[0]) if len(handles) == 1 else Or(tuple(From(handle) for handle in handles))
    if isinstance(node, MatchAll):
        return scope
    return And((*(node.children if isinstance(node, And) else (node,)), scope))


Plan = dict[str, "Node | bool"]


def anchor_plan(node: Node, cost: Callable[[str], float]) -> tuple[Plan, float] | None:
    """Anchor keys, each with what is left to check on a post that has it; None if no anchor.

    Every post the node holds for has one of the keys and passes what that key leaves, and a
    post that has a key and passes what it leaves is one the node holds for. What a key leaves
    is only what can hold through that key: under `latte` in `(latte OR "flat white") lang:it`
    only `lang:it` is left, not the phrase, which its own anchor covers. The keys are chosen
    rare (an AND anchors on its cheapest part; an OR needs every alternative's anchors).
    """
    key = leaf_key(node)
    if key is not None:
        return {key: True}, cost(key)
    if isinstance(node, Phrase):
        rarest = min((*node.tokens, *cjk_pairs(node.tokens)), key=cost)
        return {rarest: node}, cost(rarest)
    if isinstance(node, And):
        options = [(i, found) for i, child in enumerate(node.children) if (found := anchor_plan(child, cost))]
        if not options:
            return None
        chosen, (plan, total) = min(options, key=lambda option: option[1][1])
        others = [child for i, child in enumerate(node.children) if i != chosen]
        keyed = list(zip(others, map(_leaf_keys, others), strict=True))
        out: Plan = {}
        for key, rest in plan.items():
            parts = [rest, *(residual(child, key) if key in keys else child for child, keys in keyed)]
            left = _combine(And, parts, node.pos)
            if left is not False:
                out[key] = left
        return out, total
    if isinstance(node, Or):
        plans = [found for child in node.children if (found := anchor_plan(child, cost))]
        if len(plans) < len(node.children):
            return None
        alternatives: dict[str, list[Node | bool]] = {}
        for plan, _ in plans:
            for key, rest in plan.items():
                alternatives.setdefault(key, []).append(rest)
        merged = {key: _combine(Or, rests, node.pos) for key, rests in alternatives.items()}
        total = sum(c for _, c in plans)
        return {key: rest for key, rest in merged.items() if rest is not False}, total
    return None


def _leaf_keys(node: Node) -> set[str]:
    """Every key a leaf of the node tests."""
    if isinstance(node, (And, Or)):
        return set().union(*(_leaf_keys(child) for child in node.children))
    if isinstance(node, Not):
        return _leaf_keys(node.child)
    key = leaf_key(node)
    return set() if key is None else {key}


def _combine(kind: type[And | Or], parts: list[Node | bool], pos: int) -> Node | bool:
    """AND (`kind` And) or OR (`kind` Or) of simplified parts, flattened; a bool when that settles it."""
    settles = kind is Or  # the value of one part that settles the whole group
    kept: list[Node] = []
    for part in parts:
        if part is settles:
            return settles
        if not isinstance(part, bool):
            kept.extend(part.children if isinstance(part, kind) else (part,))
    if not kept:
        return not settles
    return kept[0] if len(kept) == 1 else kind(tuple(dict.fromkeys(kept)), pos)


def residual(node: Node, key: str | None) -> Node | bool:
    """The node simplified for posts known to have `key` (True/False when that decides it)."""
    if isinstance(node, Not):
        inner = residual(node.child, key)
        return (not inner) if isinstance(inner, bool) else Not(inner, node.pos)
    if isinstance(node, (And, Or)):
        return _residual_group(node, key)
    if isinstance(node, MatchAll):
        return True
    return True if key is not None and leaf_key(node) == key else node


def _residual_group(node: And | Or, key: str | None) -> Node | bool:
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


def compile_check(node: Node) -> Check:
    """The node as (keys needed, keys to avoid, closure for the rest)."""
    children = node.children if isinstance(node, And) else (node,)
    need: set[str] = set()
    avoid: set[str] = set()
    rest: list[Node] = []
    for child in children:
        key = leaf_key(child)
        negated = _negated_keys(child)
        if key is not None:
            need.add(key)
        elif negated is not None:
            avoid.update(negated)
        else:
            need.update(child.tokens if isinstance(child, Phrase) else ())  # a cheap pre-test
            rest.append(child)
    closure = _all_of([predicate(child) for child in rest]) if rest else None
    return (_shared(need) if need else _NOTHING), (_shared(avoid) if avoid else None), closure


def _negated(node: Node) -> tuple[Node, ...]:
    """What a negation excludes, one by one: `-x` -> (x,), `-(x OR y)` -> (x, y); () if no negation."""
    if not isinstance(node, Not):
        return ()
    return node.child.children if isinstance(node.child, Or) else (node.child,)


def _negated_keys(node: Node) -> list[str] | None:
    """For `-k` and `-(k1 OR k2 ...)` of keyed leaves, the keys a post must not have; else None."""
    negated = _negated(node)
    return _keys_of(negated) if negated else None


def _keys_of(nodes: tuple[Node, ...]) -> list[str] | None:
    """The keys of the nodes when every one is a keyed leaf, else None."""
    keys = [key for node in nodes if (key := leaf_key(node)) is not None]
    return keys if len(keys) == len(nodes) else None


# What the index checks under a key: keys needed, keys to avoid, a closure for the rest (or
# None), phrases that must all occur, a followers range (low, high; -1: no bound), phrases none
# of which may occur, and sets of keys of each of which the post must have one.
IndexCheck = tuple[
    frozenset[str], "frozenset[str] | None", "Predicate | None", tuple[tuple[str, ...], ...], int, int,
    tuple[tuple[str, ...], ...], tuple[frozenset[str], ...],
]


def compile_index_check(node: Node) -> IndexCheck:
    """The node as an IndexCheck: keys, phrases (also negated, and in negated ORs), ORs of keys
    and follower ranges are data the index's C loop tests itself; only what remains (other ORs,
    negated ANDs) is a Python closure."""
    children = node.children if isinstance(node, And) else (node,)
    rest: list[Node] = []
    phrases: list[tuple[str, ...]] = []
    absent: list[tuple[str, ...]] = []
    avoided: set[str] = set()
    any_of: list[frozenset[str]] = []
    low = high = -1
    for child in children:
        negated = _negated(child)
        if negated and all(isinstance(n, Phrase) or leaf_key(n) is not None for n in negated):
            absent += [n.tokens for n in negated if isinstance(n, Phrase)]  # -(a OR "b c") = -a -"b c"
            avoided.update(key for n in negated if (key := leaf_key(n)) is not None)
        elif isinstance(child, Or) and (keys := _keys_of(child.children)) is not None:
            any_of.append(frozenset(keys))
        elif isinstance(child, Phrase):
            phrases.append(child.tokens)
        elif isinstance(child, Followers):
            low = max(low, child.low)
            if child.high is not None:
                high = child.high if high < 0 else min(high, child.high)
        else:
            rest.append(child)
    if rest:
        need, avoid, closure = compile_check(rest[0] if len(rest) == 1 else And(tuple(rest), node.pos))
    else:
        need, avoid, closure = _NOTHING, None, None
    if phrases:
        need = frozenset(need.union(*phrases))
    if avoided:
        avoid = frozenset(avoided.union(avoid or ()))
    return (
        need, avoid, closure, tuple(dict.fromkeys(phrases)), low, high, tuple(dict.fromkeys(absent)),
        tuple(dict.fromkeys(any_of)),
    )


_CACHE: weakref.WeakValueDictionary[Node, Predicate] = weakref.WeakValueDictionary()


def predicate(node: Node) -> Predicate:
    """A test of the node on a PreparedPost; equal nodes share one function."""
    found = _CACHE.get(node)
    if found is None:
        found = _CACHE[node] = _compile(node)
    return found


def _compile(node: Node) -> Predicate:
    key = leaf_key(node)
    if key is not None:
        return lambda p: key in p.keys
    if isinstance(node, Not):
        inner = predicate(node.child)
        return lambda p: not inner(p)
    if isinstance(node, And):
        return _from_check(*compile_check(node))
    if isinstance(node, Or):
        keys = frozenset(key for child in node.children if (key := leaf_key(child)) is not None)
        others = [predicate(child) for child in node.children if leaf_key(child) is None]
        return _any_of(([_has_any(keys)] if keys else []) + others)
    if isinstance(node, Phrase):
        tokens, needed = node.tokens, frozenset(node.tokens)
        return lambda p: needed <= p.keys and p.has_phrase(tokens)
    if isinstance(node, Followers):
        low, high = node.low, node.high if node.high is not None else float("inf")
        return lambda p: p.followers is not None and low <= p.followers <= high
    return lambda p: True  # MatchAll


def _from_check(need: frozenset[str], avoid: frozenset[str] | None, rest: Predicate | None) -> Predicate:
    if avoid is None:
        return (lambda p: need <= p.keys) if rest is None else (lambda p: need <= p.keys and rest(p))
    if rest is None:
        return lambda p: need <= p.keys and avoid.isdisjoint(p.keys)
    return lambda p: need <= p.keys and avoid.isdisjoint(p.keys) and rest(p)


def _has_any(keys: frozenset[str]) -> Predicate:
    if len(keys) == 1:
        (key,) = keys
        return lambda p: key in p.keys
    return lambda p: not keys.isdisjoint(p.keys)


def _all_of(checks: list[Predicate]) -> Predicate:
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda p: first(p) and second(p)
    return _every(tuple(checks))


def _every(checks: tuple[Predicate, ...]) -> Predicate:
    def every(p: PreparedPost) -> bool:
        for check in checks:  # noqa: SIM110 - a plain loop: all() of a generator is 3x slower per post
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
        for check in checks:  # noqa: SIM110 - a plain loop: any() of a generator is 3x slower per post
            if check(p):
                return True
        return False

    return some
