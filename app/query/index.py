"""One index over every enabled rule: a post costs about the same with 10 rules as with 100,000.

Each rule is filed under a few *anchor keys*: keys that every post it matches must have
(for `(espresso OR latte) lang:it`, the tokens espresso and latte), chosen as rare as the
observed posts suggest. A post is prepared once; the index looks each of its keys (tokens,
hashtags, mentions, author, hosts, language, flags) up once, and checks only the rules filed
under what it found, with a check pre-simplified for "this key is present" (often nothing is
left to check). Rules with no possible anchor (a scoped rule of narrowing terms only, or the
empty query) are checked on every post, each distinct check once.

Changes are incremental: add, replace or remove one rule touches only its own keys. The
`from:` keys (most of the keys when rules are scoped to long lists of people) live in
`AUTHOR_SHARDS` small tables of their own, so that the O(n) resize a table makes now and then
when a key is added copies a fraction of the keys (a post has only one or two `from:` keys).
One writer and any number of concurrent readers are safe under the GIL: what `match` reads
under a key (its *view*) is replaced, never changed in place.

Where the C extension `app.query._native` is built, the tables are its `KeyIndex`, the views
its `Packed` blocks and the per-post walk its `match`; otherwise dicts, tuples and `_match_py`,
the same walk in Python. Both give the same answers (tests/query/test_index_property.py runs
both against the reference evaluator).
"""

from __future__ import annotations

import gc
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Protocol, TypeAlias

from app.platforms.base import Post
from app.query.compile import (
    IndexCheck,
    Predicate,
    anchor_plan,
    compile_index_check,
    residual,
    restrict_to_authors,
)
from app.query.native import Native
from app.query.native import native as _c
from app.query.nodes import NARROWING_PREFIXES, Node
from app.query.prepared import PreparedPost, prepare
from app.query.stats import TermStats

if TYPE_CHECKING:
    from app.query._native import Packed

SAMPLE_EVERY = 64
AUTHOR_SHARDS = 16  # a power of two
_SHARD_MASK = AUTHOR_SHARDS - 1
_Entry = tuple["str | None", "IndexCheck | None"]
# What `match` reads under one key is a *view*, replaced (never changed in place) by each change.
# The writer's state of a key is (exact, checks, groups): `exact` the ids of the rules the key
# alone settles (a sorted array of int64); `checks` the published groups, each (need, avoid,
# rest, ids, phrases, low, high, absent, any_of) as in an IndexCheck but with tuples of keys;
# `groups` the writer's own map of IndexCheck -> published group. The Python loop reads the
# state itself as the view; the C loop reads a `_native.Packed` of exact and checks, which holds
# the state for the writer as its `state`.
_Group = tuple[
    tuple[str, ...], "tuple[str, ...] | None", "Predicate | None", Sequence[int], tuple[tuple[str, ...], ...], int, int,
    tuple[tuple[str, ...], ...], tuple[frozenset[str], ...],
]
_State = tuple[Sequence[int], tuple[_Group, ...], dict[IndexCheck, _Group]]
_View: TypeAlias = "_State | Packed[_State]"
_EMPTY: _State = ((), (), {})


class _Table(Protocol):
    """A key's table as the writer uses it: a dict, or the C extension's KeyIndex."""

    def get(self, key: str, /) -> _View | None: ...

    def pop(self, key: str, default: None, /) -> _View | None: ...

    def __setitem__(self, key: str, view: _View, /) -> None: ...

    def __contains__(self, key: object, /) -> bool: ...


def _with(ids: Sequence[int], rule_id: int, adding: bool) -> array[int]:
    """A new sorted array of rule ids with `rule_id` added or removed (a copy: a C memcpy, which
    matters when a key holds thousands of rules, as a popular author's key does)."""
    out = array("q", ids)
    at = bisect_left(out, rule_id)
    found = at < len(out) and out[at] == rule_id
    if adding and not found:
        out.insert(at, rule_id)
    elif not adding and found:
        del out[at]
    return out


def _changed(state: _State, rule_id: int, check: IndexCheck | None, adding: bool) -> _State:
    """The state with one rule filed (or unfiled) under the key; the old state stays as it was."""
    exact, checks, groups = state
    if check is None:
        return _with(exact, rule_id, adding), checks, groups
    groups = dict(groups) if groups is _EMPTY[2] else groups
    found = groups.get(check)
    ids = _with(found[3] if found else (), rule_id, adding)
    if ids:
        need, avoid, rest, phrases, low, high, absent, any_of = check
        avoid_keys = None if avoid is None else _as_tuple(avoid)
        groups[check] = (_as_tuple(need), avoid_keys, rest, ids, phrases, low, high, absent, any_of)
    else:
        groups.pop(check, None)
    return exact, tuple(groups.values()), groups


# Key sets recur across thousands of checks (`{lang:en}`, `{is:reply}`): one tuple each.
_TUPLES: dict[frozenset[str], tuple[str, ...]] = {}


def _as_tuple(keys: frozenset[str]) -> tuple[str, ...]:
    """The keys as a tuple, narrowing ones (common in posts, so rarely decisive) last."""
    found = _TUPLES.get(keys)
    if found is None:
        found = tuple(sorted(keys, key=lambda key: key.startswith(NARROWING_PREFIXES)))
        if len(keys) <= 4 and len(_TUPLES) < 100_000:
            _TUPLES[keys] = found
    return found


def _match_py(p: PreparedPost, keys: set[str], author_keys: tuple[str, ...], table: dict[str, _State],
              shards: tuple[dict[str, _State], ...], always: _State) -> set[int]:
    """The per-post loop in Python: what `app.query._native.match` does in C, when that is built."""
    views: list[_State | None] = [always]
    views += [shards[hash(key) & _SHARD_MASK].get(key) for key in author_keys]
    views += map(table.get, keys)  # `from:` keys are not there: they miss
    out: set[int] = set()
    followers = p.followers
    for view in views:
        if view is None:
            continue
        exact, checks = view[0], view[1]
        if exact:
            out.update(exact)
        for need, avoid, rest, ids, phrases, low, high, absent, any_of in checks:
            if (
                keys.issuperset(need)
                and (avoid is None or keys.isdisjoint(avoid))
                and all(not keys.isdisjoint(one_of) for one_of in any_of)
                and (low < 0 or (followers is not None and low <= followers and (high < 0 or followers <= high)))
                and all(map(p.has_phrase, phrases))
                and not any(map(p.has_phrase, absent))
                and (rest is None or rest(p))
            ):
                out.update(ids)
    return out


NATIVE = _c is not None  # False: the same loop in Python


class RuleIndex:
    """Every enabled rule compiled together; `match(post)` gives the ids of the rules that hold."""

    def __init__(self, stats: TermStats | None = None, *, native: bool | None = None):
        """`native`: use the C loop (default: when app.query.native has it)."""
        if native and _c is None:
            raise RuntimeError("app.query._native is not built; reinstall with a C compiler present")
        self.stats = stats or TermStats()
        self.native = NATIVE if native is None else native
        self._c: Native | None = _c if self.native else None  # None: the same loop in Python
        self._table = self._new_table()  # key -> view; every key but `from:` ones
        self._authors = tuple(self._new_table() for _ in range(AUTHOR_SHARDS))
        self._always = self._view(_EMPTY)
        self._rules: dict[int, list[_Entry]] = {}
        self._seen = 0

    def __len__(self) -> int:
        return len(self._rules)

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self._rules

    def add(self, rule_id: int, node: Node, *, authors: Iterable[str] | None = None) -> None:
        """Index a rule's parsed query; ValueError if the id is already indexed (use replace).

        `authors` (handles or ids), when given, is the rule's scope as a set of people: the rule
        then holds only for their posts, and a rule without a stand-alone term anchors on them
        instead of being checked on every post.
        """
        if rule_id in self._rules:
            raise ValueError(f"rule {rule_id} is already indexed; use replace()")
        scoped = node if authors is None else restrict_to_authors(node, authors)
        entries = [] if scoped is None else self._entries(scoped)
        for key, check in entries:
            self._file(key, rule_id, check, adding=True)
        self._rules[rule_id] = entries

    def add_many(self, rules: Iterable[tuple[int, Node] | tuple[int, Node, Iterable[str] | None]]) -> None:
        """Index many `(rule_id, node[, authors])` at once, as at start-up.

        The cyclic garbage collector is paused meanwhile: it would otherwise rescan the growing
        index over and over (about half of a 100,000-rule build). Callers holding a large index
        for long may also `gc.freeze()` once it is built.
        """
        enabled = gc.isenabled()
        gc.disable()
        try:
            for rule_id, node, *authors in rules:
                self.add(rule_id, node, authors=authors[0] if authors else None)
        finally:
            if enabled:
                gc.enable()

    def replace(self, rule_id: int, node: Node, *, authors: Iterable[str] | None = None) -> None:
        """Index a rule's new query (and scope) in place of the old one, or add it."""
        self.remove(rule_id)
        self.add(rule_id, node, authors=authors)

    def remove(self, rule_id: int) -> bool:
        """Forget a rule (disabled or deleted); False when it was not indexed."""
        entries = self._rules.pop(rule_id, None)
        if entries is None:
            return False
        for key, check in entries:
            self._file(key, rule_id, check, adding=False)
        return True

    def learn(self, posts: Iterable[Post | PreparedPost]) -> None:
        """Count the keys of sample posts, so that rules added later anchor on rarer keys."""
        for post in posts:
            self.stats.observe(prepare(post))

    def _new_table(self) -> _Table:
        """An empty key -> view table: the same mapping, in C when it is built."""
        if self._c is not None:
            return self._c.KeyIndex()
        table: dict[str, _View] = {}
        return table

    def _view(self, state: _State) -> _View:
        """What `match` reads for a key's state: the state itself, or it packed for the C loop."""
        return state if self._c is None else self._c.pack(state[0], state[1], state)

    def _state(self, view: _View) -> _State:
        return view if isinstance(view, tuple) else view.state

    def _table_of(self, key: str) -> _Table:
        return self._authors[hash(key) & _SHARD_MASK] if key.startswith("from:") else self._table

    def _file(self, key: str | None, rule_id: int, check: IndexCheck | None, *, adding: bool) -> None:
        """File (or unfile) a rule under a key by publishing the key's new view."""
        if key is None:
            self._always = self._view(_changed(self._state(self._always), rule_id, check, adding))
            return
        table = self._table_of(key)
        view = table.get(key)
        state = _changed(_EMPTY if view is None else self._state(view), rule_id, check, adding)
        if state[0] or state[1]:
            table[key] = self._view(state)
        else:
            table.pop(key, None)

    def _entries(self, node: Node) -> list[_Entry]:
        """(key, check left once the key is present, None when nothing is) for each anchor."""
        found = anchor_plan(node, self.stats.anchor_cost)
        plan: Iterable[tuple[str | None, Node | bool]] = found[0].items() if found else [(None, residual(node, None))]
        compiled: dict[Node, IndexCheck] = {}  # keys that leave the same residual share one check
        entries: list[_Entry] = []
        for key, rest in plan:
            if isinstance(rest, bool):
                entries.extend([(key, None)] if rest else [])
                continue
            check = compiled.get(rest)
            if check is None:
                check = compiled[rest] = compile_index_check(rest)
            entries.append((key, check))
        return entries

    def match(self, post: Post | PreparedPost) -> set[int]:
        """The ids of the indexed rules whose queries hold for the post."""
        p = prepare(post)
        self._seen += 1
        if self._seen % SAMPLE_EVERY == 0:
            self.stats.observe(p)
        if self._c is not None:
            return self._c.match(
                p, p.tokens, p.extra_keys, p.author_keys, self._table, self._authors, self._always, p.followers
            )
        # Without the C loop every view is a state and every table a dict (see _view and _new_table):
        # the mode is chosen once, in __init__, which the types of the tables cannot say.
        return _match_py(p, p.keys, p.author_keys, self._table, self._authors, self._always)  # type: ignore[arg-type]
