"""How often a key (token, hashtag, author, language...) occurs in posts, to anchor rules on rare ones.

The index samples the posts it matches; until it has seen enough, it falls back on a prior:
hashtags, mentions and authors are rare, languages and flags common, and short words and a few
very common function words are commoner than long words.
"""

from __future__ import annotations

from app.query.nodes import NARROWING_PREFIXES
from app.query.prepared import PreparedPost

MIN_SAMPLES = 200
MAX_KEYS = 300_000

_PRIOR = {"#": 0.003, "@": 0.003, "from:": 0.0005, "to:": 0.001, "url:": 0.003, "lang:": 0.3, "is:": 0.3, "has:": 0.3,
          "label:": 0.01}
_COMMON = frozenset(
    "a an and are as at be but by de del der des die do e el en es et for from has have i in is it"
    " la las le les los me my no not o of on or que se so that the this to un una und was we with"
    " y you".split()
)


class TermStats:
    """Document frequencies of keys in a sample of posts, halved once `MAX_KEYS` are held."""

    def __init__(self) -> None:
        self.samples = 0
        self.counts: dict[str, int] = {}

    def observe(self, p: PreparedPost) -> None:
        """Count the keys of one post."""
        self.samples += 1
        counts = self.counts
        for key in p.keys:
            counts[key] = counts.get(key, 0) + 1
        if len(counts) > MAX_KEYS:
            self._decay()

    def _decay(self) -> None:
        """Halve every count and forget keys seen once, so memory stays bounded."""
        self.samples //= 2
        self.counts = {key: n // 2 for key, n in self.counts.items() if n > 1}

    def anchor_cost(self, key: str) -> float:
        """How costly filing a rule under the key is: its frequency, and narrowing keys (lang:,
        is:, has:) count four times, for the check they leave behind carries the rule's real test."""
        cost = self.frequency(key)
        return cost * 4 if key.startswith(NARROWING_PREFIXES) else cost

    def frequency(self, key: str) -> float:
        """The estimated share of posts that have the key."""
        if self.samples >= MIN_SAMPLES:
            return (self.counts.get(key, 0) + 0.5) / (self.samples + 1)
        for prefix, prior in _PRIOR.items():
            if key.startswith(prefix):
                return prior
        return 0.3 if key in _COMMON else 0.02 / len(key)
