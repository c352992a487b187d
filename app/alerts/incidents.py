"""Incidents: what each subscription has been told. A finding due for a subscription opens its
incident once and writes an "opened" message to the outbox; when the finding is gone, the incident
is resolved once and a "resolved" message is written, in the same transaction (the outbox pattern).

Several workers may evaluate at once: an incident is opened, reopened or resolved by a conditional
write whose row count says whether this worker did it, so each change writes one message.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import repository
from app.alerts.findings import Finding, Key, account_findings, due_for
from app.alerts.payloads import event_payload
from app.models import Account, ActionStatus
from app.models.alert import AlertDelivery, AlertIncident, AlertSubscription

OPENED, RESOLVED, TEST = "alert.opened", "alert.resolved", "alert.test"


async def evaluate(session: AsyncSession, *, now: datetime) -> int:
    """Open and resolve every subscription's incidents as of `now`; the messages written."""
    subscriptions = await repository.enabled(session)
    if not subscriptions:
        return 0
    every = any(s.account_id is None for s in subscriptions)
    scoped = None if every else {s.account_id for s in subscriptions if s.account_id is not None}
    accounts = {a.id: a for a in await repository.watched_accounts(session, scoped)}
    findings = await _findings(session, list(accounts.values()), now)
    open_by: dict[int, dict[Key, AlertIncident]] = defaultdict(dict)
    for row in await repository.open_incidents(session):
        open_by[row.subscription_id][(row.kind, row.subject)] = row
    written = 0
    for subscription in subscriptions:
        due, held = due_for(subscription, findings, now), open_by[subscription.id]
        for key, finding in due.items():
            if key not in held:
                written += await _open(session, subscription, finding, accounts.get(finding.account_id), now)
        for key, row in held.items():
            if key not in due:
                written += await _resolve(session, subscription, row, accounts.get(row.account_id or 0), now)
    return written


def enqueue(session: AsyncSession, subscription: AlertSubscription, *, event: str, incident: AlertIncident | None,
            account: Account | None, now: datetime) -> AlertDelivery:
    """Write one message to the outbox, due now."""
    delivery_id = str(uuid.uuid4())
    payload = event_payload(
        delivery_id=delivery_id, event=event, kind=incident.kind if incident else None,
        subject=incident.subject if incident else None,
        message=incident.message if incident else "a test message: this subscription reaches its receiver",
        account=_account(account), subscription={"id": subscription.id, "name": subscription.name},
        number=incident.number if incident else None, opened_at=incident.opened_at if incident else None,
        resolved_at=incident.resolved_at if incident else None, at=now)
    row = AlertDelivery(subscription_id=subscription.id, incident_id=incident.id if incident else None,
                        delivery_id=delivery_id, event=event, payload=payload, next_attempt_at=now, created_at=now)
    session.add(row)
    return row


async def _findings(session: AsyncSession, accounts: list[Account], now: datetime) -> list[Finding]:
    reviews = await repository.oldest_by_account(session, ActionStatus.review)
    queued = await repository.oldest_by_account(session, ActionStatus.queued)
    return [f for a in accounts
            for f in account_findings(a, now, oldest_review=reviews.get(a.id), oldest_queued=queued.get(a.id))]


async def _open(session: AsyncSession, subscription: AlertSubscription, finding: Finding, account: Account | None,
                now: datetime) -> int:
    row = await repository.incident(session, subscription.id, finding.kind.value, finding.subject)
    if row is None:
        row = AlertIncident(subscription_id=subscription.id, kind=finding.kind.value, subject=finding.subject,
                            account_id=finding.account_id, message=finding.message, number=1, opened_at=now)
        if not await repository.insert_incident(session, row):
            return 0
    elif not await repository.reopen(session, row, message=finding.message, now=now):
        return 0
    enqueue(session, subscription, event=OPENED, incident=row, account=account, now=now)
    return 1


async def _resolve(session: AsyncSession, subscription: AlertSubscription, row: AlertIncident,
                   account: Account | None, now: datetime) -> int:
    if not await repository.resolve(session, row, now=now):
        return 0
    enqueue(session, subscription, event=RESOLVED, incident=row, account=account, now=now)
    return 1


def _account(account: Account | None) -> dict[str, Any] | None:
    if account is None:
        return None
    return {"id": account.id, "platform": account.platform, "handle": account.handle}
