"""The long-running commands: demo, serve, worker. Each checks what it needs before it starts."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import threading
from types import FrameType

from app.cli.parsing import DATABASE, PIPELINE, Subparsers, add_command
from app.cli.preflight import listen, load_settings, migrated_database, require_key, stopped
from app.config import Settings

# what app/demo.py sets itself; the rest of the pipeline's settings come from the environment
DEMO_READS = tuple(name for name in PIPELINE if name not in (
    "database_url", "encryption_key", "poll_interval_seconds", "dispatch_interval_seconds"))


def demo(args: argparse.Namespace) -> None:
    """`reposter demo`: the port first, so a second demo fails before it prints a token."""
    from app import demo as demo_module

    demo_module.main(listen(args.host, args.port), args.db, args.post_every)


def serve(args: argparse.Namespace) -> None:
    """`reposter serve`: refuses to start on a bad key, an unreachable or unmigrated database, a busy port."""
    settings = load_settings()
    require_key(settings)
    migrated_database(settings)
    import uvicorn

    from app.main import create_app

    settings.run_scheduler = args.with_worker
    sock = listen(args.host or settings.host, args.port or settings.port)
    # log_config=None: uvicorn's own lines (startup, access) go through app/logs.py's handler too
    config = uvicorn.Config(create_app(settings), log_level=settings.log_level.lower(), log_config=None)
    server = uvicorn.Server(config)

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        # uvicorn handles SIGTERM while it serves; once it has stopped gracefully it puts this
        # handler back and raises the signal again, which then means "done": exit 0
        if not server.should_exit:
            stopped(signum, frame)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_sigterm)
    server.run(sockets=[sock])


def worker(args: argparse.Namespace) -> None:
    """`reposter worker`: the pipeline, once the key and the database are right."""
    settings = load_settings()
    require_key(settings)
    migrated_database(settings)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_work(settings))


async def _work(settings: Settings) -> None:
    from app.pipeline.streamer import Streamer
    from app.runtime import Runtime
    from app.scheduler.jobs import Pipeline
    from app.scheduler.setup import start_scheduler, stop_scheduler

    # SIGTERM (a rolling restart) or SIGINT: stop gracefully, as the demo does
    stopping = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stopping.set)
    runtime = Runtime.build(settings)
    streamer = Streamer(runtime)
    pipeline = Pipeline(runtime)
    scheduler = start_scheduler(pipeline, every_seconds=settings.dispatch_interval_seconds, streamer=streamer)
    log = logging.getLogger("reposter.worker")
    log.info("worker started", extra={"worker_id": runtime.worker_id,
                                      "every_seconds": settings.dispatch_interval_seconds})
    try:
        await stopping.wait()
        await stop_scheduler(scheduler, pipeline, grace=settings.shutdown_grace_seconds, streamer=streamer)
    finally:
        await runtime.close()
    log.info("worker stopped", extra={"worker": runtime.worker_id})


def add_commands(sub: Subparsers) -> None:
    """demo, serve and worker."""
    cmd = add_command(sub, "demo", demo, "run the demo: mock community, API and scheduler on SQLite",
                      "Makes a fresh SQLite database, an account on the mock platform with three rules, "
                      "filters and a block, prints an admin token and curl commands, then prints each "
                      "decision as the community posts. Ctrl-C stops it. It makes its own database URL, "
                      "key and intervals; it reads the other pipeline settings.",
                      settings=DEMO_READS, source="environment")
    cmd.add_argument("--host", default="127.0.0.1", help="address to serve the API on")
    cmd.add_argument("--port", type=int, default=8000, help="port to serve the API on (0: any free port)")
    cmd.add_argument("--db", default="reposter-demo.db", help="SQLite file (deleted and recreated each run)")
    cmd.add_argument("--post-every", type=float, default=1.5, help="seconds between community posts")
    cmd = add_command(sub, "serve", serve, "serve the API",
                      "Needs a migrated database (`reposter migrate`) and REPOSTER_ENCRYPTION_KEY. Run "
                      "`reposter worker` beside it, or --with-worker for both in one process.",
                      settings=(*DATABASE, "encryption_key", "host", "port"))
    cmd.add_argument("--host", help="address to listen on (default: REPOSTER_HOST)")
    cmd.add_argument("--port", type=int, help="port to listen on (default: REPOSTER_PORT)")
    cmd.add_argument("--with-worker", action="store_true",
                     help="also run the pipeline in this process (what SQLite setups should do); it then "
                          "reads the worker's settings too")
    add_command(sub, "worker", worker, "run the pipeline: poll, match, dispatch",
                "Needs a migrated database and REPOSTER_ENCRYPTION_KEY. Run several on PostgreSQL; on "
                "SQLite run one (or `serve --with-worker`).", settings=PIPELINE)
