"""Liveness, readiness (database reachable, migrations current) and Prometheus metrics.

Readiness is about this process: can it serve the API (database answers, schema current). An
account's or a platform's failure never flips it: taking the API out of a load balancer because
one PDS is down would hide the very failure from the people who must see it, and restarting the
process mends nothing outside. Those failures are in the API (`/accounts/{id}/health`), counted in
/metrics (accounts by status, conditions, sources failing, streams, the oldest waiting action),
and summed up in the /readyz body for a glance.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CollectorRegistry, Gauge, Histogram, generate_latest

from app.db.base import utcnow
from app.db.migrate import head_revision
from app.deps import RuntimeDep
from app.health import repository
from app.models import ActionStatus
from app.pipeline.dispatcher import due
from app.pipeline.matcher import matched_through

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(runtime: RuntimeDep):
    """Ready when the database answers and its schema is at the newest migration."""
    try:
        current = await repository.schema_revision(runtime.engine)
    except Exception as exc:  # noqa: BLE001 - any failure here means not ready
        return JSONResponse({"error": "not ready", "detail": f"database: {type(exc).__name__}"}, status_code=503)
    head = head_revision()
    if current != head:
        detail = f"schema at {current}, code expects {head}: run `reposter migrate`"
        return JSONResponse({"error": "not ready", "detail": detail}, status_code=503)
    async with runtime.sessions() as session:
        summary = await _attention_summary(session)
    return {"status": "ready", "schema": current, "accounts": summary}


async def _attention_summary(session) -> dict[str, int]:
    """Informational only (see the module's docstring): how many accounts and sources need a look."""
    attention, failing = await repository.attention_counts(session)
    return {"not_active": attention, "with_failing_sources": failing}


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(runtime: RuntimeDep) -> PlainTextResponse:
    """Prometheus metrics read from the database, so every worker's work is counted once."""
    registry = CollectorRegistry()
    async with runtime.sessions() as session:
        await _action_metrics(session, registry)
        await _poll_metrics(session, registry)
        await _latency_metrics(session, registry)
        await _account_metrics(session, registry)
        await _source_metrics(session, registry)
        await _waiting_metrics(session, registry, runtime.settings.max_attempts)
    return PlainTextResponse(generate_latest(registry).decode(), media_type="text/plain; version=0.0.4")


async def _action_metrics(session, registry) -> None:
    actions = Gauge("reposter_actions", "actions by platform, kind and status", ["platform", "kind", "status"],
                    registry=registry)
    skips = Gauge("reposter_skipped", "skipped actions by reason", ["reason"], registry=registry)
    depth = Gauge("reposter_queue_depth", "actions waiting (queued, review, failed with a retry due)", ["platform"],
                  registry=registry)
    for platform, kind, status, count in await repository.actions_by_status(session):
        actions.labels(platform, kind, status).set(count)
        if status in (ActionStatus.queued, ActionStatus.review, ActionStatus.sending):
            depth.labels(platform).inc(count)
    for reason, count in await repository.skip_reasons(session):
        skips.labels((reason or "unknown").split(":")[0]).inc(count)


async def _poll_metrics(session, registry) -> None:
    polls = Gauge("reposter_polls_total", "polls of platform feeds", ["platform", "outcome"], registry=registry)
    inbox = Gauge("reposter_posts_seen", "posts in the inbox", ["platform"], registry=registry)
    matched = Gauge("reposter_posts_matched_through", "the matcher's position in the inbox", registry=registry)
    for platform, total, errors in await repository.polls_by_platform(session):
        polls.labels(platform, "ok").set((total or 0) - (errors or 0))
        polls.labels(platform, "error").set(errors or 0)
    for platform, count in await repository.posts_by_platform(session):
        inbox.labels(platform).set(count)
    matched.set(await matched_through(session))


async def _latency_metrics(session, registry) -> None:
    """Seconds from a post entering the inbox to its repost, over the last hour's sends."""
    latency = Histogram("reposter_send_latency_seconds", "inbox to platform, last hour", ["platform"],
                        buckets=(1, 5, 15, 60, 300, 900, 3600, 21600, 86400), registry=registry)
    for platform, sent_at, seen_at in await repository.sends_since(session, utcnow() - timedelta(hours=1)):
        latency.labels(platform).observe(max(0.0, (sent_at - seen_at).total_seconds()))


async def _account_metrics(session, registry) -> None:
    """Accounts by platform and status, conditions by code, streams by state."""
    accounts = Gauge("reposter_accounts", "accounts by platform, status and whether enabled",
                     ["platform", "status", "enabled"], registry=registry)
    conditions = Gauge("reposter_account_conditions", "conditions raised on accounts, by code (before any ':')",
                       ["platform", "code", "severity"], registry=registry)
    streams = Gauge("reposter_streams", "stream states recorded by the streamer", ["platform", "state"],
                    registry=registry)
    for platform, status, enabled, items in await repository.account_states(session):
        accounts.labels(platform, status, str(bool(enabled)).lower()).inc()
        for item in (items or {}).values():
            conditions.labels(platform, item["code"].split(":")[0], item["severity"]).inc()
    for platform, state, count in await repository.streams_by_state(session):
        streams.labels(platform, state).set(count)


async def _source_metrics(session, registry) -> None:
    """Sources per platform, those whose last poll failed (by the error's kind), the longest failing run."""
    sources = Gauge("reposter_sources", "polled sources", ["platform"], registry=registry)
    failing = Gauge("reposter_sources_failing", "sources whose last poll failed (consecutive_failures > 0)",
                    ["platform", "kind"], registry=registry)
    streak = Gauge("reposter_source_consecutive_failures_max", "the longest run of failed polls of any source",
                   ["platform"], registry=registry)
    for platform, count, longest in await repository.sources_by_platform(session):
        sources.labels(platform).set(count)
        streak.labels(platform).set(longest or 0)
    for platform, kind, count in await repository.failing_sources(session):
        failing.labels(platform, kind or "unknown").set(count)


async def _waiting_metrics(session, registry, max_attempts: int) -> None:
    """How long the oldest action that is due has waited to be sent (0 when none waits)."""
    oldest = Gauge("reposter_oldest_waiting_action_seconds", "age of the oldest due action not yet sent",
                   ["platform"], registry=registry)
    now = utcnow()
    for platform, first in await repository.oldest_due(session, due(now, max_attempts)):
        oldest.labels(platform).set(max(0.0, (now - first).total_seconds()) if first else 0.0)
