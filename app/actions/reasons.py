"""Skip reasons by kind: the short names charts and counts group skipped actions under.

A skip's reason is a sentence (`filter: min_followers 200: author has 12`, `scope: not a follower`);
its kind is read from how it starts, the same way in Python and in SQL (`kind_of` here,
app/actions/repository.py for the grouped counts), so the two can never disagree.
"""

from __future__ import annotations

REPOSTED = "reposted"
OTHER = "other"

# (how the reason starts, its kind), first match wins: the more specific filter prefixes before "filter:".
KINDS: tuple[tuple[str, str], ...] = (
    ("filter: language", "language"),
    ("filter: min_followers", "followers"),
    ("filter: min_account_age_days", "account age"),
    ("filter: banned word", "banned word"),
    ("filter: duplicate text", "duplicate"),
    ("filter: ", "other filter"),
    ("scope: ", "not in scope"),
    ("blocked: ", "blocked"),
    ("opted out", "opted out"),
    ("consent: ", "no consent"),
    ("waited longer than max_queue_age", "waited too long"),
    ("post no longer exists", "post gone"),
)


def kind_of(reason: str | None) -> str:
    """The short kind of a skip reason (`other` for one no kind names)."""
    for prefix, kind in KINDS:
        if reason and reason.startswith(prefix):
            return kind
    return OTHER
