"""Replay: what filters and limits would have done to matches that already happened. Pure.

The matches are replayed in the order they came, as the matcher and the dispatcher would have
met them: each passes the filters (and the duplicate check against the texts let through before
it) or is skipped; one let through is sent at the earliest moment the limits allow after the one
before it (the queue is sent in order), or skipped when that is later than `max_queue_age`.
A match skipped for a reason no setting changes (scope, a block, an opt-out) stays skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.engine.filters import duplicate_reason, filter_reason, normalized_text
from app.engine.limits import LimitSettings, earliest_send
from app.engine.view import FilterSettings
from app.platforms.base import Post

# A wait shorter than this is sending as usual, not a delay the limits caused.
DELAY_TOLERANCE = timedelta(minutes=1)


@dataclass(frozen=True)
class Match:
    """A post a rule matched, when it matched, and a skip reason no setting changes (if any)."""

    post: Post
    at: datetime
    fixed_reason: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What became of a match in a replay: skipped with a reason, or sent after `wait`."""

    skipped: str | None = None
    wait: timedelta = timedelta(0)

    @property
    def delayed(self) -> bool:
        return self.skipped is None and self.wait > DELAY_TOLERANCE

    def describe(self) -> str:
        """The outcome in a few words: `skipped: ...`, `sent after 35 min`, `sent at once`."""
        if self.skipped:
            return f"skipped: {self.skipped}"
        if not self.delayed:
            return "sent at once"
        minutes = round(self.wait.total_seconds() / 60)
        return f"sent after {minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"sent after {minutes} min"


def replay(matches: list[Match], filters: FilterSettings, limits: LimitSettings,
           max_queue_age: int | None = None) -> list[Outcome]:
    """The outcome of each match (in `matches`' order, which must be the order they came in)."""
    sent: list[datetime] = []
    recent: list[tuple[datetime, str]] = []
    return [_one(match, filters, limits, max_queue_age, sent, recent) for match in matches]


def _one(match: Match, filters: FilterSettings, limits: LimitSettings, max_queue_age: int | None,
         sent: list[datetime], recent: list[tuple[datetime, str]]) -> Outcome:
    if match.fixed_reason:
        return Outcome(skipped=match.fixed_reason)
    text = normalized_text(match.post)
    reason = filter_reason(filters, match.post, match.at) or duplicate_reason(filters, text, recent, match.at)
    if reason:
        return Outcome(skipped=reason)
    recent.append((match.at, text))
    slot = earliest_send(limits, sent, max(match.at, sent[-1]) if sent else match.at)
    if max_queue_age is not None and slot - match.at > timedelta(seconds=max_queue_age):
        return Outcome(skipped=f"waited longer than max_queue_age ({max_queue_age} s)")
    sent.append(slot)
    return Outcome(wait=slot - match.at)
