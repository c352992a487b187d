"""An account at a glance, for the dashboard's overview: its health, today's numbers, what waits,
and its reposts and skips (by kind of reason) per hour over the last seven days.

Hours and days are UTC: the chart's buckets are whole UTC hours, and "today" starts at 00:00 UTC,
so today's numbers are exactly the sum of today's bars.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.health import account_health
from app.accounts.schemas import AccountHealth
from app.actions import repository as actions_repository
from app.actions.reasons import REPOSTED
from app.audit import repository as audit_repository
from app.models import Account, ActionStatus
from app.runtime import Runtime

DAYS = 7
HOUR_FORMAT = "%Y-%m-%d %H"


@dataclass
class AccountSummary:
    """One account's card on the overview."""

    account: Account
    health: AccountHealth
    hours: list[datetime]
    # kind (`reposted`, or a skip kind) -> count per hour, aligned with `hours`
    series: dict[str, list[int]] = field(default_factory=dict)
    reposted_today: int = 0
    skipped_today: int = 0
    reviewed_today: int = 0
    queued: int = 0
    in_review: int = 0

    @property
    def queue_depth(self) -> int:
        return self.queued + self.in_review


def hours_until(now: datetime, days: int = DAYS) -> list[datetime]:
    """The starts of the last `days` * 24 whole hours, oldest first, the current hour last."""
    top = now.replace(minute=0, second=0, microsecond=0)
    return [top - timedelta(hours=h) for h in range(days * 24 - 1, -1, -1)]


async def summaries(session: AsyncSession, *, accounts: Sequence[Account], runtime: Runtime,
                    now: datetime) -> list[AccountSummary]:
    """The overview card of each account: one health view each, and three grouped queries for all."""
    if not accounts:
        return []
    ids = [a.id for a in accounts]
    hours = hours_until(now)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    out = {a.id: AccountSummary(a, await account_health(session, account=a, runtime=runtime), hours) for a in accounts}
    slot = {h.strftime(HOUR_FORMAT): i for i, h in enumerate(hours)}
    today_starts = slot[today.strftime(HOUR_FORMAT)]  # always among the last seven days' hours
    for account_id, hour, kind, count in await actions_repository.hourly_outcomes(session, account_ids=ids,
                                                                                 since=hours[0]):
        _add(out[account_id], slot.get(hour), kind, count, today_starts=today_starts)
    for (account_id, status), count in (await actions_repository.waiting_by_status(session, account_ids=ids)).items():
        if status == ActionStatus.queued:
            out[account_id].queued = count
        else:
            out[account_id].in_review = count
    for account_id, count in (await audit_repository.reviews_since(session, account_ids=ids, since=today)).items():
        out[account_id].reviewed_today = count
    return [out[i] for i in ids]


def _add(summary: AccountSummary, index: int | None, kind: str, count: int, *, today_starts: int) -> None:
    """Count one (hour, kind) group into the card; a group outside the hours shown is left out."""
    if index is None:
        return
    summary.series.setdefault(kind, [0] * len(summary.hours))[index] += count
    if index >= today_starts:
        if kind == REPOSTED:
            summary.reposted_today += count
        else:
            summary.skipped_today += count
