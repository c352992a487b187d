"""Liveness, readiness (database reachable, migrations current) and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CollectorRegistry, Gauge, generate_latest
from sqlalchemy import func, select, text

from app.db.migrate import head_revision
from app.deps import RuntimeDep
from app.models import Account, Action, Cursor

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
    actions = Gauge("reposter_actions", "actions by platform, kind and status", ["platform", "kind", "status"], registry=registry)
    skips = Gauge("reposter_skipped", "skipped actions by reason", ["reason"], registry=registry)
    polls = Gauge("reposter_sources", "polled sources by state", ["platform", "state"], registry=registry)
    async with runtime.sessions() as session:
        rows = await session.execute(select(Account.platform, Action.kind, Action.status, func.count())
                                     .join(Account, Account.id == Action.account_id)
                                     .group_by(Account.platform, Action.kind, Action.status))
        for platform, kind, status, count in rows:
            actions.labels(platform, kind, status).set(count)
        reasons = await session.execute(select(Action.reason, func.count()).where(Action.status == "skipped").group_by(Action.reason))
        for reason, count in reasons:
            skips.labels((reason or "unknown").split(":")[0]).inc(count)
        sources = await session.execute(select(Account.platform, Cursor.error.is_(None), func.count())
                                        .join(Account, Account.id == Cursor.account_id).group_by(Account.platform, Cursor.error.is_(None)))
        for platform, ok, count in sources:
            polls.labels(platform, "ok" if ok else "error").inc(count)
    return PlainTextResponse(generate_latest(registry).decode(), media_type="text/plain; version=0.0.4")
