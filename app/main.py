"""create_app(): routers, error handlers, and the lifespan that owns the runtime and the scheduler."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from app.accounts.endpoints import router as accounts_router
from app.actions.endpoints import router as actions_router
from app.alerts.endpoints import router as alerts_router
from app.audit.endpoints import router as audit_router
from app.auth.endpoints import router as tokens_router
from app.config import Settings, get_settings
from app.deps import refuse_unstorable_text
from app.errors import ERROR_RESPONSES, JSON_ERRORS, error_responses, install_handlers
from app.filters.endpoints import router as filters_router
from app.health import router as health_router
from app.ingest.endpoints import router as ingest_router
from app.moderation.endpoints import router as moderation_router
from app.rules.endpoints import router as rules_router
from app.runtime import Runtime
from app.web import install_dashboard
from app.web.render import error_page, is_page

API = "/api/v1"
# Swagger UI's files ship in the package (app/static/swagger-ui/README.md): /docs works offline.
STATIC = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> FastAPI:
    """The API. With `runtime` given (tests, the demo) the caller owns it; else the app builds its own."""
    settings = settings or (runtime.settings if runtime else get_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = runtime is None
        app.state.runtime = runtime or Runtime.build(settings)
        stop = None
        if settings.run_scheduler and own:
            from app.pipeline.streamer import Streamer
            from app.scheduler.jobs import Pipeline
            from app.scheduler.setup import start_scheduler, stop_scheduler

            streamer, pipeline = Streamer(app.state.runtime), Pipeline(app.state.runtime)
            scheduler = start_scheduler(pipeline, every_seconds=settings.dispatch_interval_seconds, streamer=streamer)
            # `serve --with-worker` on SIGTERM: the worker's graceful shutdown (leases given back)
            stop = partial(stop_scheduler, scheduler, pipeline, grace=settings.shutdown_grace_seconds,
                           streamer=streamer)
        try:
            yield
        finally:
            if stop is not None:
                await stop()
            if own:
                await app.state.runtime.close()

    # docs_url=None: FastAPI's own /docs loads Swagger UI from a CDN; _serve_docs serves it from here.
    # ReDoc (CDN-only as well) is off rather than vendored a second time.
    app = FastAPI(title="reposter", version="0.1.0", lifespan=lifespan,
                  description="Rule-based auto-repost service for X, Mastodon and Bluesky.",
                  dependencies=[Depends(refuse_unstorable_text)], docs_url=None, redoc_url=None)
    if runtime is not None:
        app.state.runtime = runtime
    install_handlers(app, pages=(is_page, error_page))
    app.include_router(health_router, responses=JSON_ERRORS)
    for router in (accounts_router, rules_router, filters_router, moderation_router, actions_router, audit_router,
                   tokens_router, ingest_router, alerts_router):
        # Every API operation takes a token (401) and refuses text no database stores, even in a query (422);
        # each router names its 403, 404 and 409 where they can happen.
        app.include_router(router, prefix=API, responses={**ERROR_RESPONSES, **error_responses(401, 422)})
    _serve_docs(app)
    install_dashboard(app)
    return app


def _serve_docs(app: FastAPI) -> None:
    """/docs: Swagger UI from the package's static files, reading this app's /openapi.json."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}", title=f"{app.title} API",
            swagger_js_url=f"{root}/static/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{root}/static/swagger-ui/swagger-ui.css",
            swagger_favicon_url=f"{root}/static/swagger-ui/favicon-32x32.png",
            # validatorUrl: Swagger UI would otherwise fetch a badge from validator.swagger.io
            swagger_ui_parameters={"validatorUrl": None})
