"""Limits: the earliest moment an account may act next. Over a limit a post waits; it is never dropped."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class LimitSettings:
    max_per_hour: int | None = None
    max_per_day: int | None = None
    min_interval_seconds: int = 0
    quiet_hours_start: str | None = None
    quiet_hours_end: str | None = None
    timezone: str = "UTC"
    # the platform's own windows: (count, seconds), e.g. X's 50 retweets per 900 s
    windows: tuple[tuple[int, int], ...] = ()


def earliest_send(limits: LimitSettings, sent: list[datetime], now: datetime) -> datetime:
    """The first instant >= now at which one more send keeps every limit. `sent` is recent send times."""
    moment = now
    for _ in range(8):  # each constraint can only push later; a few rounds settle it
        later = max(
            _quiet(limits, moment),
            _interval(limits, sent, moment),
            *(_window(count, seconds, sent, moment) for count, seconds in _windows(limits)),
        )
        if later <= moment:
            return moment
        moment = later
    return moment


def _windows(limits: LimitSettings) -> list[tuple[int, int]]:
    found = list(limits.windows)
    if limits.max_per_hour:
        found.append((limits.max_per_hour, 3600))
    if limits.max_per_day:
        found.append((limits.max_per_day, 86400))
    return found


def _window(count: int, seconds: int, sent: list[datetime], moment: datetime) -> datetime:
    """Sliding window: with `count` sends in the last `seconds`, wait until the oldest leaves it."""
    start = moment - timedelta(seconds=seconds)
    inside = sorted(t for t in sent if start < t <= moment)
    if len(inside) < count:
        return moment
    return inside[len(inside) - count] + timedelta(seconds=seconds)


def _interval(limits: LimitSettings, sent: list[datetime], moment: datetime) -> datetime:
    if not limits.min_interval_seconds or not sent:
        return moment
    return max(moment, max(sent) + timedelta(seconds=limits.min_interval_seconds))


def _quiet(limits: LimitSettings, moment: datetime) -> datetime:
    """Inside quiet hours (account's time zone, may wrap midnight): the end of them, else `moment`."""
    if not limits.quiet_hours_start or not limits.quiet_hours_end:
        return moment
    zone = ZoneInfo(limits.timezone)
    local = moment.astimezone(zone)
    start, end = _hhmm(limits.quiet_hours_start), _hhmm(limits.quiet_hours_end)
    now_t = local.time()
    inside = start <= now_t < end if start < end else (now_t >= start or now_t < end)
    if not inside or start == end:
        return moment
    day = local.date() if now_t < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=zone).astimezone(moment.tzinfo)


def _hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))
