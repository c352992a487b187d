"""What is wrong now, account by account, and which of it is due for a subscription. Pure.

Each finding has a subject (what it is about, stable while it lasts) and `since` (when it
began); a subscription is told once the finding has lasted its threshold:
- `account_attention`  an attention condition (app/accounts/conditions.py): at once
- `source_failing`     the condition `source:<source>` (app/pipeline/source_health.py): `source_minutes`
- `rate_limited`       a rate limit in force: `rate_limit_minutes`
- `review_waiting`     the oldest action in review: `review_minutes`
- `queue_age`          the oldest queued action, past the account's max_queue_age_seconds: at once
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.accounts.conditions import Severity, current
from app.models.alert import AlertKind

Key = tuple[str, str]


@dataclass(frozen=True)
class Finding:
    kind: AlertKind
    subject: str
    account_id: int
    message: str
    since: datetime


def account_findings(account: Any, now: datetime, *, oldest_review: datetime | None,
                     oldest_queued: datetime | None) -> list[Finding]:
    """Everything wrong with one account at `now` (limits whose time passed are gone)."""
    found = _conditions(account, current(account, now).conditions)
    if oldest_review is not None:
        found.append(Finding(AlertKind.review_waiting, f"account:{account.id}:review", account.id,
                             f"the oldest post in review has waited since {oldest_review.isoformat()}", oldest_review))
    if oldest_queued is not None and account.max_queue_age_seconds:
        past = oldest_queued + timedelta(seconds=account.max_queue_age_seconds)
        found.append(Finding(AlertKind.queue_age, f"account:{account.id}:queue", account.id,
                             f"a queued post has waited since {oldest_queued.isoformat()}, beyond max_queue_age "
                             f"({account.max_queue_age_seconds} s)", past))
    return found


def due_for(subscription: Any, findings: list[Finding], now: datetime) -> dict[Key, Finding]:
    """The findings this subscription is to be told about now: its account (or all), its kinds,
    and lasting its thresholds."""
    kinds = set(subscription.kinds or AlertKind)
    wait = {AlertKind.source_failing: subscription.source_minutes, AlertKind.rate_limited:
            subscription.rate_limit_minutes, AlertKind.review_waiting: subscription.review_minutes}
    return {(f.kind.value, f.subject): f for f in findings
            if subscription.account_id in (None, f.account_id) and f.kind in kinds
            and now - f.since >= timedelta(minutes=wait.get(f.kind, 0))}


def _conditions(account: Any, conditions: dict[str, dict[str, Any]]) -> list[Finding]:
    found = []
    for code, item in sorted(conditions.items()):
        since = datetime.fromisoformat(item["since"])
        if item["severity"] == Severity.attention:
            found.append(Finding(AlertKind.account_attention, f"account:{account.id}:{code}", account.id,
                                 item["message"], since))
        elif code.startswith("source:"):
            found.append(Finding(AlertKind.source_failing, f"account:{account.id}:{code}", account.id,
                                 item["message"], since))
        elif code.startswith("rate_limited:"):
            found.append(Finding(AlertKind.rate_limited, f"account:{account.id}:{code}", account.id,
                                 item["message"], since))
    return found
