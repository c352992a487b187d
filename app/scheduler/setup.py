"""The only module that imports APScheduler: the polling, sending, relations and alerts jobs."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from app.scheduler.jobs import Pipeline

log = logging.getLogger("reposter.worker")


def start_scheduler(pipeline: Pipeline, *, every_seconds: float, streamer=None) -> AsyncIOScheduler:
    """Start the jobs now and every `every_seconds`; a slow run of a job is never run twice at once.

    Polling and sending are separate jobs, so a slow poll never holds sends (and the reverse);
    within each, accounts are served concurrently (app/pipeline/fanout.py). With a streamer,
    push feeds are (re)started every minute as accounts change."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    if streamer is not None:
        scheduler.add_job(streamer.sync, "interval", seconds=60, next_run_time=datetime.now(UTC), max_instances=1,
                          coalesce=True, id="streams")
    jobs = {"pipeline-poll": (pipeline.poll_tick, every_seconds), "pipeline-send": (pipeline.send_tick, every_seconds),
            "pipeline-relations": (pipeline.relations_tick, 60.0),
            "alerts": (pipeline.alerts_tick, pipeline.runtime.settings.alert_interval_seconds)}
    for job_id, (job, seconds) in jobs.items():
        scheduler.add_job(job, "interval", seconds=seconds, next_run_time=datetime.now(UTC), max_instances=1,
                          coalesce=True, id=job_id, misfire_grace_time=None)
    scheduler.start()
    if pipeline.runtime.settings.push_enabled:  # posts that arrive are sent at once; the jobs are the safety net
        pipeline.start_push()
    return scheduler


async def stop_scheduler(scheduler: AsyncIOScheduler, pipeline: Pipeline, *, grace: float,
                         streamer=None) -> dict[str, int]:
    """Graceful shutdown: no new jobs, push feeds closed, work in hand given `grace` seconds, the
    rest cancelled, every lease of this worker given back (Pipeline.shutdown); the leases freed."""
    # paused, not shut down yet: APScheduler's shutdown cancels running jobs at once, with no grace
    scheduler.pause()
    log.info("shutdown: scheduler stopped", extra={"worker": pipeline.runtime.worker_id, "grace_seconds": grace})
    if streamer is not None:
        await streamer.stop()
    released = await pipeline.shutdown(grace)
    scheduler.shutdown(wait=False)
    return released
