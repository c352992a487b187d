"""A rule's timing: when a match may be sent at the earliest (the account's limits still apply after it).

    now     at once (the default)
    delay   `minutes` after the match
    spread  the matches of a window of `window_minutes`, opened by the first match, spread across it:
            the k-th match of the window (k = 0, 1, 2, ...) is given the point that halves the widest
            free gap: start, +1/2, +1/4, +3/4, +1/8, +5/8, +3/8, +7/8 ... of the window. However many
            come, each is due within the window and they are spread evenly (exactly for 2, 4, 8 ...;
            no gap more than twice another otherwise); a point already past is due at once. A match
            after the window's end opens the next one.
    at      the next of the given local times (HH:MM, the account's time zone)

Pure: the matcher gives it the time, the account's zone and the rule's open spread window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class Timing:
    mode: str = "now"
    minutes: int = 0  # delay
    window_minutes: int = 0  # spread
    times: tuple[str, ...] = ()  # at: HH:MM, local

    @classmethod
    def of(cls, stored: dict[str, Any] | None) -> Timing:
        """The timing a rule stores (None: now)."""
        if not stored:
            return NOW
        return cls(mode=str(stored.get("mode", "now")), minutes=int(stored.get("minutes") or 0),
                   window_minutes=int(stored.get("window_minutes") or 0), times=tuple(stored.get("times") or ()))


NOW = Timing()


@dataclass(frozen=True, slots=True)
class Window:
    """A rule's spread window for one account: when it opened and how many matches it holds."""

    start: datetime
    taken: int


def scheduled(timing: Timing, now: datetime, *, timezone: str = "UTC", window: Window | None = None) -> datetime | None:
    """When a match decided `now` is due (None: at once). `window`: the rule's latest spread window."""
    if timing.mode == "delay":
        return now + timedelta(minutes=timing.minutes)
    if timing.mode == "at":
        return next_local(timing.times, timezone, now)
    if timing.mode == "spread":
        start, k = spread_slot(timing, now, window)
        return max(now, start + timedelta(minutes=timing.window_minutes) * halving(k))
    return None


def spread_slot(timing: Timing, now: datetime, window: Window | None) -> tuple[datetime, int]:
    """The window a match decided `now` goes in (its start) and its place in it."""
    if window is not None and window.start + timedelta(minutes=timing.window_minutes) > now:
        return window.start, window.taken
    return now, 0


def halving(k: int) -> float:
    """The k-th point of the van der Corput sequence in base 2: 0, 1/2, 1/4, 3/4, 1/8, 5/8 ..."""
    point, scale = 0.0, 0.5
    while k:
        point += scale * (k & 1)
        k >>= 1
        scale /= 2
    return point


def next_local(times: tuple[str, ...], timezone: str, now: datetime) -> datetime:
    """The first of these local times (HH:MM in `timezone`) at or after `now`, in UTC."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    found = []
    for offset in (0, 1, 2):  # today, tomorrow, and the day after for a time a DST gap skips
        day = local.date() + timedelta(days=offset)
        for text in times:
            hours, minutes = text.split(":")
            # compared in UTC: aware datetimes of one zone compare by wall time
            moment = datetime.combine(day, time(int(hours), int(minutes)), tzinfo=zone).astimezone(now.tzinfo)
            if moment >= now:
                found.append(moment)
    return min(found)


def undo_at(sent_at: datetime, undo_after_hours: int | None) -> datetime | None:
    """When a promotion window ends: `undo_after_hours` after the send (None: never)."""
    return sent_at + timedelta(hours=undo_after_hours) if undo_after_hours else None
