"""The only module that imports APScheduler: one interval job running the pipeline tick."""

from __future__ import annotations

from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from app.scheduler.jobs import Pipeline


def start_scheduler(pipeline: Pipeline, *, every_seconds: float, streamer=None) -> AsyncIOScheduler:
    """Start ticking now and every `every_seconds`; a slow tick is never run twice at once.
    With a streamer, push feeds are (re)started every minute as accounts change."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    if streamer is not None:
        scheduler.add_job(streamer.sync, "interval", seconds=60, next_run_time=datetime.now(UTC), max_instances=1,
                          coalesce=True, id="streams")
    scheduler.add_job(
        pipeline.tick,
        "interval",
        seconds=every_seconds,
        next_run_time=datetime.now(UTC),
        max_instances=1,
        coalesce=True,
        id="pipeline-tick",
        misfire_grace_time=None,
    )
    scheduler.start()
    return scheduler
