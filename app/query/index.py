"""One index over every enabled rule: a post costs about the same with 10 rules as with 100,000.

Each rule is filed under a few *anchor keys*: keys that every post it matches must have
(for `(espresso OR latte) lang:it`, the tokens espresso and latte), chosen as rare as the
observed posts suggest. A post is prepared once; the index looks up each of its tokens,
hashtags, mentions, authors, hosts, languages and flags once, and tests only the rules filed
under what it found, with a predicate pre-simplified for "this key is present" (often nothing
is left to test). Rules with no possible anchor (a scoped rule of narrowing terms only, or the
empty query) are tested on every post, each distinct predicate once.

Changes are incremental: add, replace or remove one rule touches only its own keys.
One writer and any number of concurrent readers are safe under the GIL: the containers
`match` iterates are replaced, never changed in place.
"""

from __future__ import annotations

from app.platforms.base import Post
from app.query.compile import Key, Predicate, choose_anchors, predicate, residual
from app.query.nodes import Node
from app.query.prepared import PreparedPost, prepare
from app.query.stats import TermStats

SAMPLE_EVERY = 64


class _Bucket:
    """The rules under one key: those it settles, and (predicate, rule ids) groups to test."""

    __slots__ = ("exact", "groups", "checks")

    def __init__(self) -> None:
        self.exact: frozenset[int] = frozenset()
        self.groups: dict[Predicate, frozenset[int]] = {}
        self.checks: tuple[tuple[Predicate, frozenset[int]], ...] = ()

    def add(self, rule_id: int, test: Predicate | None) -> None:
        if test is None:
            self.exact = self.exact | {rule_id}
        else:
            self.groups[test] = self.groups.get(test, frozenset()) | {rule_id}
            self.checks = tuple(self.groups.items())

    def remove(self, rule_id: int, test: Predicate | None) -> None:
        if test is None:
            self.exact = self.exact - {rule_id}
            return
        left = self.groups[test] - {rule_id}
        if left:
            self.groups[test] = left
        else:
            del self.groups[test]
        self.checks = tuple(self.groups.items())

    def __bool__(self) -> bool:
        return bool(self.exact or self.groups)


class RuleIndex:
    """Every enabled rule compiled together; `match(post)` gives the ids of the rules that hold."""

    def __init__(self, stats: TermStats | None = None):
        self.stats = stats or TermStats()
        self._tables: dict[str, dict[str, _Bucket]] = {ns: {} for ns in "whmatulf"}
        self._always = _Bucket()
        self._rules: dict[int, list[tuple[Key | None, Predicate | None]]] = {}
        self._seen = 0

    def __len__(self) -> int:
        return len(self._rules)

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self._rules

    def add(self, rule_id: int, node: Node) -> None:
        """Index a rule's parsed query; ValueError if the id is already indexed (use replace)."""
        if rule_id in self._rules:
            raise ValueError(f"rule {rule_id} is already indexed; use replace()")
        entries = self._entries(node)
        for key, test in entries:
            self._bucket(key).add(rule_id, test)
        self._rules[rule_id] = entries

    def replace(self, rule_id: int, node: Node) -> None:
        """Index a rule's new query in place of its old one (or add it if it was not indexed)."""
        self.remove(rule_id)
        self.add(rule_id, node)

    def remove(self, rule_id: int) -> bool:
        """Forget a rule (disabled or deleted); False when it was not indexed."""
        entries = self._rules.pop(rule_id, None)
        if entries is None:
            return False
        for key, test in entries:
            bucket = self._bucket(key)
            bucket.remove(rule_id, test)
            if key is not None and not bucket:
                del self._tables[key[0]][key[1]]
        return True

    def learn(self, posts: list[Post | PreparedPost]) -> None:
        """Count the keys of sample posts, so that rules added later anchor on rarer keys."""
        for post in posts:
            self.stats.observe(prepare(post))

    def _bucket(self, key: Key | None) -> _Bucket:
        if key is None:
            return self._always
        table = self._tables[key[0]]
        bucket = table.get(key[1])
        if bucket is None:
            bucket = table[key[1]] = _Bucket()
        return bucket

    def _entries(self, node: Node) -> list[tuple[Key | None, Predicate | None]]:
        """(key, predicate left to test once the key is present; None when nothing is) per anchor."""
        found = choose_anchors(node, self.stats.frequency)
        if found is None:
            rest = residual(node, ("", ""))
            return [] if rest is False else [(None, None if rest is True else predicate(rest))]
        entries: list[tuple[Key | None, Predicate | None]] = []
        for key in found[0]:
            rest = residual(node, key)
            if rest is not False:
                entries.append((key, None if rest is True else predicate(rest)))
        return entries

    def match(self, post: Post | PreparedPost) -> set[int]:
        """The ids of the indexed rules whose queries hold for the post."""
        p = prepare(post)
        self._seen += 1
        if self._seen % SAMPLE_EVERY == 0:
            self.stats.observe(p)
        out: set[int] = set()
        tables = self._tables
        always = self._always
        if always.exact:
            out |= always.exact
        for test, ids in always.checks:
            if test(p):
                out |= ids
        _probe(tables["w"], p.token_set, p, out)
        _probe(tables["h"], p.hashtags, p, out)
        _probe(tables["m"], p.mentions, p, out)
        _probe(tables["a"], p.authors, p, out)
        if p.reply_to is not None:
            _probe(tables["t"], (p.reply_to,), p, out)
        if tables["u"] and p.post.urls:
            _probe(tables["u"], p.hosts, p, out)
        _probe(tables["l"], p.langs, p, out)
        _probe(tables["f"], p.flags, p, out)
        return out


def _probe(table: dict[str, _Bucket], values: frozenset[str] | tuple[str, ...], p: PreparedPost, out: set[int]) -> None:
    """Add to `out` the rules filed under any of the post's values in one namespace."""
    get = table.get
    for value in values:
        bucket = get(value)
        if bucket is None:
            continue
        if bucket.exact:
            out |= bucket.exact
        for test, ids in bucket.checks:
            if test(p):
                out |= ids
