"""How often a key (token, hashtag, author, language...) occurs in posts, to anchor rules on rare ones.

The index samples the posts it matches; until it has seen enough, it falls back on a prior:
hashtags, mentions and authors are rare, languages and flags common, and short words and a few
very common function words are commoner than long words.
"""

from __future__ import annotations

from app.query.compile import NAMESPACE_ATTRS, Key
from app.query.prepared import PreparedPost

MIN_SAMPLES = 200
MAX_KEYS = 300_000

_PRIOR = {"h": 0.003, "m": 0.003, "a": 0.0005, "t": 0.001, "u": 0.003, "l": 0.3, "f": 0.3}
_COMMON = frozenset(
    "a an and are as at be but by de del der des die do e el en es et for from has have i in is it"
    " la las le les los me my no not o of on or que se so that the this to un una und was we with"
    " y you".split()
)


class TermStats:
    """Document frequencies of keys in a sample of posts, with decay once `MAX_KEYS` are held."""

    def __init__(self) -> None:
        self.samples = 0
        self.counts: dict[str, dict[str, int]] = {ns: {} for ns in [*NAMESPACE_ATTRS, "t"]}
        self._size = 0

    def observe(self, p: PreparedPost) -> None:
        """Count the keys of one post."""
        self.samples += 1
        for ns, attr in NAMESPACE_ATTRS.items():
            self._count(self.counts[ns], getattr(p, attr))
        if p.reply_to is not None:
            self._count(self.counts["t"], (p.reply_to,))
        if self._size > MAX_KEYS:
            self._decay()

    def _count(self, counts: dict[str, int], values: frozenset[str] | tuple[str, ...]) -> None:
        for value in values:
            seen = counts.get(value)
            if seen is None:
                self._size += 1
                counts[value] = 1
            else:
                counts[value] = seen + 1

    def _decay(self) -> None:
        """Halve every count and forget keys seen once, so memory stays bounded."""
        self.samples //= 2
        for ns, counts in self.counts.items():
            self.counts[ns] = {value: n // 2 for value, n in counts.items() if n > 1}
        self._size = sum(len(counts) for counts in self.counts.values())

    def frequency(self, key: Key) -> float:
        """The estimated share of posts that have the key."""
        ns, value = key
        if self.samples >= MIN_SAMPLES:
            return (self.counts[ns].get(value, 0) + 0.5) / (self.samples + 1)
        if ns == "w":
            return 0.3 if value in _COMMON else 0.02 / max(len(value), 1)
        return _PRIOR[ns]
