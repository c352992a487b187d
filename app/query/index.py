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
`AUTHOR_SHARDS` small tables of their own, so that the O(n) resize a dict makes now and then
when a key is added copies a fraction of the keys (a post has only one or two `from:` keys).
One writer and any number of concurrent readers are safe under the GIL: the containers
`match` iterates are replaced, never changed in place.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable

from app.platforms.base import Post
from app.query.compile import (
    Check,
    choose_anchors,
    compile_check,
    residual,
    residuals,
    restrict_to_authors,
)
from app.query.nodes import Node
from app.query.prepared import PreparedPost, prepare
from app.query.stats import TermStats

SAMPLE_EVERY = 64
AUTHOR_SHARDS = 16  # a power of two
_SHARD_MASK = AUTHOR_SHARDS - 1
_Entry = tuple["str | None", "Check | None"]


class _Bucket:
    """The rules under one key: those it settles, and (need, avoid, rest, rule ids) groups to check."""

    __slots__ = ("exact", "groups", "checks")

    def __init__(self) -> None:
        self.exact: frozenset[int] = frozenset()
        self.groups: dict[Check, frozenset[int]] = {}
        self.checks: tuple[tuple[object, ...], ...] = ()

    def add(self, rule_id: int, check: Check | None) -> None:
        if check is None:
            self.exact = self.exact | {rule_id}
        else:
            self.groups[check] = self.groups.get(check, frozenset()) | {rule_id}
            self._publish()

    def remove(self, rule_id: int, check: Check | None) -> None:
        if check is None:
            self.exact = self.exact - {rule_id}
            return
        left = self.groups[check] - {rule_id}
        if left:
            self.groups[check] = left
        else:
            del self.groups[check]
        self._publish()

    def _publish(self) -> None:
        """Replace (never mutate) the tuple that `match` iterates."""
        self.checks = tuple((*check, ids) for check, ids in self.groups.items())

    def __bool__(self) -> bool:
        return bool(self.exact or self.groups)


class RuleIndex:
    """Every enabled rule compiled together; `match(post)` gives the ids of the rules that hold."""

    def __init__(self, stats: TermStats | None = None):
        self.stats = stats or TermStats()
        self._table: dict[str, _Bucket] = {}  # every key but `from:` ones
        self._authors: tuple[dict[str, _Bucket], ...] = tuple({} for _ in range(AUTHOR_SHARDS))
        self._always = _Bucket()
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
            self._bucket(key).add(rule_id, check)
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
            bucket = self._bucket(key)
            bucket.remove(rule_id, check)
            if key is not None and not bucket:
                del self._table_of(key)[key]
        return True

    def learn(self, posts: Iterable[Post | PreparedPost]) -> None:
        """Count the keys of sample posts, so that rules added later anchor on rarer keys."""
        for post in posts:
            self.stats.observe(prepare(post))

    def _table_of(self, key: str) -> dict[str, _Bucket]:
        return self._authors[hash(key) & _SHARD_MASK] if key.startswith("from:") else self._table

    def _bucket(self, key: str | None) -> _Bucket:
        if key is None:
            return self._always
        table = self._table_of(key)
        bucket = table.get(key)
        if bucket is None:
            bucket = table[key] = _Bucket()
        return bucket

    def _entries(self, node: Node) -> list[_Entry]:
        """(key, check left once the key is present, None when nothing is) for each anchor."""
        found = choose_anchors(node, self.stats.anchor_cost)
        keys: list[str | None] = found[0] if found else [None]  # type: ignore[assignment]
        rests = residuals(node, found[0]) if found else [residual(node, None)]
        compiled: dict[int, Check] = {}  # keys that leave the same residual share one check
        entries: list[_Entry] = []
        for key, rest in zip(keys, rests, strict=True):
            if isinstance(rest, bool):
                entries.extend([(key, None)] if rest else [])
                continue
            if id(rest) not in compiled:
                compiled[id(rest)] = compile_check(rest)
            entries.append((key, compiled[id(rest)]))
        return entries

    def match(self, post: Post | PreparedPost) -> set[int]:
        """The ids of the indexed rules whose queries hold for the post."""
        p = prepare(post)
        self._seen += 1
        if self._seen % SAMPLE_EVERY == 0:
            self.stats.observe(p)
        keys = p.keys
        always = self._always
        out: set[int] = set(always.exact)
        for need, avoid, rest, ids in always.checks:
            if need <= keys and (avoid is None or avoid.isdisjoint(keys)) and (rest is None or rest(p)):
                out |= ids
        authors = self._authors
        found = [authors[hash(key) & _SHARD_MASK].get(key) for key in p.author_keys]
        found += map(self._table.get, keys)  # `from:` keys are not there: they miss
        for bucket in found:
            if bucket is None:
                continue
            exact = bucket.exact
            if exact:
                out |= exact
            for need, avoid, rest, ids in bucket.checks:
                if need <= keys and (avoid is None or avoid.isdisjoint(keys)) and (rest is None or rest(p)):
                    out |= ids
        return out
