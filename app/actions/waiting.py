"""Why a waiting action waits and when it is expected to go, worked out when it is read.

A queued action its rule's timing holds (scheduled_at, app/engine/timing.py) waits for `rule timing`
until then, unless a limit holds it later.

The same checks the dispatcher makes before a send (app/pipeline/dispatcher.py `_precheck`), over
the account as it is now and its sends of the last day: so the answer follows a changed limit or a
send made since, which a reason stored at the last hold would not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.accounts.conditions import needs_attention, send_blocked_until
from app.engine.limits import LimitSettings, earliest_send
from app.models import Account, Action, ActionStatus
from app.pipeline.views import limit_settings
from app.platforms.registry import get_platform


class WaitingFor(StrEnum):
    """What a waiting action waits for."""

    min_interval = "min interval"
    hourly_cap = "hourly cap"
    daily_cap = "daily cap"
    quiet_hours = "quiet hours"
    platform_limit = "platform limit"
    retry = "retry after failure"
    review = "review"
    account = "account paused"
    rule_timing = "rule timing"


@dataclass(frozen=True, slots=True)
class Waiting:
    """The reason (None: nothing holds it, it goes in the next dispatch round) and the expected time."""

    reason: WaitingFor | None = None
    expected_at: datetime | None = None


def waiting(action: Action, account: Account, sent: list[datetime], now: datetime) -> Waiting:
    """Why the action waits and when it is expected to go (an empty Waiting unless it waits)."""
    if action.status == ActionStatus.review:
        return Waiting(WaitingFor.review)
    if action.status not in (ActionStatus.queued, ActionStatus.failed):
        return Waiting()
    if action.status == ActionStatus.failed and action.next_attempt_at is None:
        return Waiting()  # given up (not retryable, or out of attempts): it no longer waits
    if not account.enabled or needs_attention(account):
        return Waiting(WaitingFor.account)  # until a person acts: no time to expect
    retry = action.next_attempt_at if action.status == ActionStatus.failed else None
    held = send_blocked_until(account, now, bucket=get_platform(account.platform).rate_bucket(action.kind))
    reason, slot = _binding(limit_settings(account, action.kind), sent, now)
    timed = action.scheduled_at if action.status == ActionStatus.queued else None
    candidates = [(slot, reason), (held, WaitingFor.platform_limit), (retry, WaitingFor.retry),
                  (timed, WaitingFor.rule_timing)]
    at, why = max(((at, why) for at, why in candidates if at is not None and at > now),
                  key=lambda item: item[0], default=(None, None))
    return Waiting(why, at or max(now, action.next_attempt_at or now))


def _binding(limits: LimitSettings, sent: list[datetime], now: datetime) -> tuple[WaitingFor | None, datetime]:
    """The account's earliest send, and the limit that alone holds it latest (None: none holds)."""
    slot = earliest_send(limits, sent, now)
    if slot <= now:
        return None, slot
    alone = {reason: earliest_send(part, sent, now) for reason, part in _parts(limits).items()}
    return max(alone, key=lambda reason: alone[reason]), slot


def _parts(limits: LimitSettings) -> dict[WaitingFor, LimitSettings]:
    """Each limit on its own, to tell which one holds."""
    return {
        WaitingFor.quiet_hours: LimitSettings(quiet_hours_start=limits.quiet_hours_start,
                                              quiet_hours_end=limits.quiet_hours_end, timezone=limits.timezone),
        WaitingFor.min_interval: LimitSettings(min_interval_seconds=limits.min_interval_seconds),
        WaitingFor.hourly_cap: LimitSettings(max_per_hour=limits.max_per_hour),
        WaitingFor.daily_cap: LimitSettings(max_per_day=limits.max_per_day),
        WaitingFor.platform_limit: LimitSettings(windows=limits.windows),
    }
