"""The outbox sender: due messages are leased, marked `sending`, sent with no transaction open,
and their outcome recorded in a new transaction only while the lease is still this worker's
(app/pipeline/leases.py), as platform calls are (docs/architecture.md, section 5).

A message that may have reached its receiver (the connection broke after the request was
written, or the worker died while sending) is never simply sent again: receivers that can drop
a duplicate (our `json` format by its `X-Reposter-Delivery` header, email by its Message-ID) get
it again under the same delivery id; chat webhooks (Slack, Discord, Matrix), which cannot, get
nothing more and the message is `unknown`. A 5xx, 408 or 429 answer, or a connection never made,
is tried again after `alert_retry_base_seconds`, doubling (at least the Retry-After asked for,
at most an hour), `alert_max_attempts` times; any other answer is `failed` at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.crypto import decrypt
from app.alerts import mail, repository
from app.alerts.payloads import render, summary
from app.alerts.signing import signed_headers
from app.db.base import utcnow
from app.db.session import transaction
from app.models.alert import AlertChannel, AlertDelivery, AlertFormat, AlertSubscription, DeliveryStatus
from app.pipeline.leases import claim, hold
from app.runtime import Runtime

log = logging.getLogger("reposter.alerts")

MAX_DELAY = 3600.0
ERROR_LIMIT = 500
DELIVERED, RETRY, FAILED, UNSURE = "delivered", "retry", "failed", "unsure"


@dataclass(frozen=True)
class Job:
    id: int
    delivery_id: str
    event: str
    payload: dict[str, Any]
    channel: str
    format: str
    url: str | None
    email_to: str | None
    secret: str
    attempts: int


@dataclass(frozen=True)
class Result:
    outcome: str
    error: str | None = None
    retry_after: float | None = None


def deduplicating(subscription: AlertSubscription) -> bool:
    """Whether the receiver can drop a message it has seen (so an unsure one may be sent again)."""
    return subscription.channel == AlertChannel.email or subscription.format == AlertFormat.json


async def deliver_due(runtime: Runtime, *, now: datetime | None = None, limit: int = 50) -> int:
    """Send the messages due at `now`; how many were delivered."""
    now = now or utcnow()
    async with transaction(runtime.sessions) as session:
        await settle_orphans(session, now, max_attempts=runtime.settings.alert_max_attempts)
        due = (AlertDelivery.status == DeliveryStatus.pending.value, AlertDelivery.next_attempt_at <= now,
               AlertDelivery.subscription_id.in_(select(AlertSubscription.id).where(AlertSubscription.enabled)))
        ids = await claim(session, AlertDelivery, *due, order=[AlertDelivery.next_attempt_at, AlertDelivery.id],
                          limit=limit, owner=runtime.worker_id, now=now, seconds=runtime.settings.lease_seconds)
    delivered = 0
    for delivery_id in ids:
        job = await _start(runtime, delivery_id)
        if job is not None:
            delivered += await _record(runtime, job, await attempt(runtime, job), now)
    return delivered


async def settle_orphans(session: AsyncSession, now: datetime, *, max_attempts: int) -> int:
    """Messages left `sending` by a worker that stopped: sent again under the same id where the
    receiver de-duplicates, else `unknown`."""
    rows = await repository.orphans(session, now)
    for row in rows:
        subscription = await session.get_one(AlertSubscription, row.subscription_id)
        _settle(row, Result(UNSURE, "the worker sending it stopped; it may have arrived"), subscription, now,
                base=0, attempts=max_attempts)
    return len(rows)


async def attempt(runtime: Runtime, job: Job) -> Result:
    """One try at sending `job`, with no transaction open; never raises."""
    try:
        async with asyncio.timeout(runtime.settings.alert_timeout_seconds * 2):
            if job.channel == AlertChannel.email:
                return await _mail(runtime, job)
            return await _post(runtime, job)
    except TimeoutError:
        return Result(UNSURE, "no answer in time")


async def _start(runtime: Runtime, row_id: int) -> Job | None:
    """Mark one leased message `sending` (committed before it is sent) and load what sending needs."""
    settings = runtime.settings
    # the lease is renewed to outlast the send (at most twice the timeout): nobody takes the row meanwhile
    seconds = settings.lease_seconds + int(2 * settings.alert_timeout_seconds) + 1
    async with transaction(runtime.sessions) as session:
        if not await hold(session, AlertDelivery, row_id, runtime.worker_id, seconds=seconds):
            return None
        row = await session.get_one(AlertDelivery, row_id)
        subscription = await session.get_one(AlertSubscription, row.subscription_id)
        row.status, row.attempts = DeliveryStatus.sending.value, row.attempts + 1
        secret = decrypt(runtime.fernet, subscription.secret_encrypted).get("secret", "")
        return Job(row.id, row.delivery_id, row.event, row.payload, subscription.channel, subscription.format,
                   subscription.url, subscription.email_to, secret, row.attempts)


async def _post(runtime: Runtime, job: Job) -> Result:
    assert job.url is not None  # a webhook subscription has one (schemas)
    body = render(job.format, job.payload)
    headers = signed_headers(job.secret, delivery_id=job.delivery_id, event=job.event, body=body, now=time.time())
    try:
        response = await runtime.http.post(job.url, content=body, headers=headers,
                                           timeout=runtime.settings.alert_timeout_seconds)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:  # nothing was sent
        return Result(RETRY, f"could not connect: {type(exc).__name__}: {exc}")
    except httpx.TransportError as exc:  # written, perhaps received: no answer
        return Result(UNSURE, f"no answer: {type(exc).__name__}: {exc}")
    status = response.status_code
    if 200 <= status < 300:
        return Result(DELIVERED)
    error = f"HTTP {status}: {response.text[:200]}"
    if status in (408, 429) or status >= 500:
        return Result(RETRY, error, _retry_after(response.headers.get("Retry-After")))
    return Result(FAILED, error)


async def _mail(runtime: Runtime, job: Job) -> Result:
    settings = runtime.settings
    if not settings.smtp_host:
        return Result(RETRY, "no SMTP server is set (REPOSTER_SMTP_HOST)")
    text = summary(job.payload)
    subject = summary(job.payload, why=False)
    message = mail.message(settings, to=job.email_to or "", subject=subject, text=_mail_text(job.payload, text),
                           delivery_id=job.delivery_id)
    try:
        await mail.send(settings, message)
    except mail.MailNotSent as exc:
        return Result(RETRY, str(exc))
    except mail.MailRefused as exc:
        return Result(FAILED, str(exc))
    except Exception as exc:  # noqa: BLE001 - the session broke after the message was given: it may have gone
        return Result(UNSURE, f"{type(exc).__name__}: {exc}")
    return Result(DELIVERED)


async def _record(runtime: Runtime, job: Job, result: Result, now: datetime) -> int:
    async with transaction(runtime.sessions) as session:
        if not await hold(session, AlertDelivery, job.id, runtime.worker_id):
            log.warning("alert lease lost", extra={"delivery": job.delivery_id, "outcome": result.outcome})
            return 0
        row = await session.get_one(AlertDelivery, job.id)
        subscription = await session.get_one(AlertSubscription, row.subscription_id)
        settings = runtime.settings
        _settle(row, result, subscription, now, base=settings.alert_retry_base_seconds,
                attempts=settings.alert_max_attempts)
    log.info("alert " + row.status, extra={"delivery": job.delivery_id, "subscription": subscription.id,
                                            "event": job.event, "attempts": row.attempts, "error": row.last_error})
    return int(result.outcome == DELIVERED)


def _settle(row: AlertDelivery, result: Result, subscription: AlertSubscription, now: datetime, *, base: float,
            attempts: int) -> None:
    """Write one outcome on the row and give its lease back."""
    row.lease_owner, row.lease_expires_at = None, None
    error = result.error[:ERROR_LIMIT] if result.error else None
    outcome = result.outcome
    if outcome == UNSURE:
        if not deduplicating(subscription):
            row.status, row.last_error = DeliveryStatus.unknown.value, \
                f"{error}; not sent again: this receiver cannot drop a duplicate"
            return
        outcome, error = RETRY, f"{error}; sent again with the same delivery id"
    if outcome == DELIVERED:
        row.status, row.delivered_at, row.last_error = DeliveryStatus.delivered.value, now, None
    elif outcome == RETRY and row.attempts < attempts:
        delay = max(base * 2 ** max(row.attempts - 1, 0), result.retry_after or 0)
        row.status, row.last_error = DeliveryStatus.pending.value, error
        row.next_attempt_at = now + timedelta(seconds=min(delay, MAX_DELAY))
    else:
        row.status, row.last_error = DeliveryStatus.failed.value, error


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _mail_text(payload: dict[str, Any], text: str) -> str:
    lines = [text, ""] + [f"{k}: {v}" for k, v in payload.items() if v is not None and k != "account"]
    return "\n".join(lines) + "\n"
