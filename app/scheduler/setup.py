"""The only module that imports APScheduler: the polling, sending and relations jobs."""

from __future__ import annotations

from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from app.scheduler.jobs import Pipeline


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
            "pipeline-relations": (pipeline.relations_tick, 60.0)}
    for job_id, (job, seconds) in jobs.items():
        scheduler.add_job(job, "interval", seconds=seconds, next_run_time=datetime.now(UTC), max_instances=1,
                          coalesce=True, id=job_id, misfire_grace_time=None)
    scheduler.start()
    return scheduler
