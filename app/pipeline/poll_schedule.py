"""When each source is polled next: its own interval, fitted to how busy it is and to its platform's
budget, and its own due time, spread by jitter.

- A poll that brought nothing doubles the source's interval; one that brought a busy page (BUSY_POSTS
  or more) halves it; anything between keeps it. A new source starts at the base interval
  (REPOSTER_POLL_INTERVAL_SECONDS).
- The interval stays within [base * MIN_FACTOR, base * MAX_FACTOR], and never below what the
  account's share of its platform's budget (REPOSTER_POLL_BUDGET_SHARE of `Platform.calls_per_second`)
  allows for all its sources together.
- An account's mentions (read for "stop" words, app/moderation/stop.py) are never slowed past the
  base interval however quiet they are: a "stop" is read within one base interval (60 s by default).
- A failing source waits base * 2^(failures-1), up to the same maximum (a rate limit: its reset time).
- Every due time is the interval +/- JITTER of it, so sources that started together (a restart,
  accounts added at once) drift apart instead of polling in lockstep.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.platforms.registry import get_platform

MIN_FACTOR = 0.25  # a busy source is polled at most 4x as often as the base interval
MAX_FACTOR = 8.0  # a quiet one at least once every 8 base intervals (8 minutes at the default 60 s)
BUSY_POSTS = 10  # a poll that brought this many posts or more makes the source faster
JITTER = 0.1  # each due time is the interval +/- 10%

_rng = random.Random()  # spreading due times: nothing secret


@dataclass(frozen=True)
class Bounds:
    """A source's interval limits and its starting point, in seconds."""

    low: float
    base: float
    high: float


def bounds(base: float, platform: str, sources: int, share: float = 0.5) -> Bounds:
    """The limits of a source of an account with `sources` sources on `platform`, whose polls may
    spend `share` of the platform's budget."""
    low = base * MIN_FACTOR
    rate = (get_platform(platform).calls_per_second or 0) * share
    if rate:  # the account's sources together within its polling budget (one call per poll)
        low = max(low, max(1, sources) / rate)
    return Bounds(low=low, base=min(max(base, low), base * MAX_FACTOR), high=max(base * MAX_FACTOR, low))


def never_slowed(limits: Bounds) -> Bounds:
    """The limits of a source that must not be slowed when quiet (an account's mentions): at most the
    base interval apart, unless the platform's budget wants more."""
    return Bounds(low=limits.low, base=limits.base, high=max(limits.base, limits.low))


def fitted(current: float | None, limits: Bounds, *, fetched: int) -> float:
    """The source's next interval after a successful poll that brought `fetched` posts."""
    interval = current or limits.base
    if fetched == 0:
        interval *= 2
    elif fetched >= BUSY_POSTS:
        interval /= 2
    return min(max(interval, limits.low), limits.high)


def backoff(limits: Bounds, failures: int) -> float:
    """How long a source that failed `failures` times in a row waits for its next poll."""
    return min(limits.base * 2.0 ** max(0, min(failures, 32) - 1), limits.high)


def due_after(now: datetime, seconds: float, rng: random.Random = _rng) -> datetime:
    """The due time `seconds` from now, give or take JITTER of it."""
    return now + timedelta(seconds=seconds * rng.uniform(1 - JITTER, 1 + JITTER))
