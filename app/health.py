"""Liveness, readiness (database reachable, migrations current) and Prometheus metrics."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CollectorRegistry, Gauge, Histogram, generate_latest
from sqlalchemy import func, select, text

from app.db.base import utcnow
from app.db.migrate import head_revision
from app.deps import RuntimeDep
from app.models import Account, Action, Cursor, SeenPost
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
        async with runtime.engine.connect() as conn:
            current = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    except Exception as exc:  # noqa: BLE001 - any failure here means not ready
        return JSONResponse({"error": "not ready", "detail": f"database: {type(exc).__name__}"}, status_code=503)
    head = head_revision()
    if current != head:
        return JSONResponse({"error": "not ready", "detail": f"schema at {current}, code expects {head}: run `reposter migrate`"},
                            status_code=503)
    return {"status": "ready", "schema": current}


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(runtime: RuntimeDep) -> PlainTextResponse:
    """Prometheus metrics read from the database, so every worker's work is counted once."""
    registry = CollectorRegistry()
    async with runtime.sessions() as session:
        await _action_metrics(session, registry)
        await _poll_metrics(session, registry)
        await _latency_metrics(session, registry)
    return PlainTextResponse(generate_latest(registry).decode(), media_type="text/plain; version=0.0.4")


async def _action_metrics(session, registry) -> None:
    actions = Gauge("reposter_actions", "actions by platform, kind and status", ["platform", "kind", "status"], registry=registry)
    skips = Gauge("reposter_skipped", "skipped actions by reason", ["reason"], registry=registry)
    depth = Gauge("reposter_queue_depth", "actions waiting (queued, review, failed with a retry due)", ["platform"], registry=registry)
    rows = await session.execute(select(Account.platform, Action.kind, Action.status, func.count())
                                 .join(Account, Account.id == Action.account_id)
                                 .group_by(Account.platform, Action.kind, Action.status))
    for platform, kind, status, count in rows:
        actions.labels(platform, kind, status).set(count)
        if status in ("queued", "review", "sending"):
            depth.labels(platform).inc(count)
    reasons = await session.execute(select(Action.reason, func.count()).where(Action.status == "skipped").group_by(Action.reason))
    for reason, count in reasons:
        skips.labels((reason or "unknown").split(":")[0]).inc(count)


async def _poll_metrics(session, registry) -> None:
    polls = Gauge("reposter_polls_total", "polls of platform feeds", ["platform", "outcome"], registry=registry)
    inbox = Gauge("reposter_posts_seen", "posts in the inbox", ["platform"], registry=registry)
    matched = Gauge("reposter_posts_matched_through", "the matcher's position in the inbox", registry=registry)
    rows = await session.execute(select(Account.platform, func.sum(Cursor.poll_count), func.sum(Cursor.error_count))
                                 .join(Account, Account.id == Cursor.account_id).group_by(Account.platform))
    for platform, total, errors in rows:
        polls.labels(platform, "ok").set((total or 0) - (errors or 0))
        polls.labels(platform, "error").set(errors or 0)
    for platform, count in await session.execute(select(SeenPost.platform, func.count()).group_by(SeenPost.platform)):
        inbox.labels(platform).set(count)
    matched.set(await matched_through(session))


async def _latency_metrics(session, registry) -> None:
    """Seconds from a post entering the inbox to its repost, over the last hour's sends."""
    latency = Histogram("reposter_send_latency_seconds", "inbox to platform, last hour", ["platform"],
                        buckets=(1, 5, 15, 60, 300, 900, 3600, 21600, 86400), registry=registry)
    since = utcnow() - timedelta(hours=1)
    rows = await session.execute(select(Account.platform, Action.sent_at, SeenPost.seen_at)
                                 .join(Account, Account.id == Action.account_id)
                                 .join(SeenPost, SeenPost.id == Action.seen_post_id)
                                 .where(Action.sent_at >= since))
    for platform, sent_at, seen_at in rows:
        latency.labels(platform).observe(max(0.0, (sent_at - seen_at).total_seconds()))
