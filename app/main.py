"""create_app(): routers, error handlers, and the lifespan that owns the runtime and the scheduler."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from app.accounts.endpoints import router as accounts_router
from app.actions.endpoints import router as actions_router
from app.audit.endpoints import router as audit_router
from app.auth.endpoints import router as tokens_router
from app.config import Settings, get_settings
from app.deps import refuse_unstorable_text
from app.errors import ERROR_RESPONSES, JSON_ERRORS, install_handlers
from app.filters.endpoints import router as filters_router
from app.health import router as health_router
from app.ingest.endpoints import router as ingest_router
from app.moderation.endpoints import router as moderation_router
from app.rules.endpoints import router as rules_router
from app.runtime import Runtime

API = "/api/v1"


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> FastAPI:
    """The API. With `runtime` given (tests, the demo) the caller owns it; else the app builds its own."""
    settings = settings or (runtime.settings if runtime else get_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = runtime is None
        app.state.runtime = runtime or Runtime.build(settings)
        scheduler = streamer = None
        if settings.run_scheduler and own:
            from app.pipeline.streamer import Streamer
            from app.scheduler.jobs import Pipeline
            from app.scheduler.setup import start_scheduler

            streamer = Streamer(app.state.runtime)
            scheduler = start_scheduler(Pipeline(app.state.runtime), every_seconds=settings.dispatch_interval_seconds,
                                        streamer=streamer)
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)
            if streamer is not None:
                await streamer.stop()
            if own:
                await app.state.runtime.close()

    app = FastAPI(title="reposter", version="0.1.0", lifespan=lifespan,
                  description="Rule-based auto-repost service for X, Mastodon and Bluesky.",
                  dependencies=[Depends(refuse_unstorable_text)])
    if runtime is not None:
        app.state.runtime = runtime
    install_handlers(app)
    app.include_router(health_router, responses=JSON_ERRORS)
    for router in (accounts_router, rules_router, filters_router, moderation_router, actions_router, audit_router,
                   tokens_router, ingest_router):
        app.include_router(router, prefix=API, responses=ERROR_RESPONSES)
    return app
