"""Limits through the pipeline: over a limit posts wait, nothing is lost or sent early."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from app.models import Action
from tests.api.helpers import API, actions, ingest, make_limited_account, world


async def test_limit_reached_mid_batch_the_rest_wait_in_order(client, admin, pipeline, runtime):
    account = await make_limited_account(client, admin, {"max_per_hour": 2})
    posts = [world().publish("alice", f"cup {i} #coffee") for i in range(5)]
    await ingest(client, admin, posts)
    report = await pipeline.tick(poll=False)
    assert report.sent == 2
    items = await actions(client, admin, account["id"])
    assert sorted(a["status"] for a in items) == ["done", "done", "queued", "queued", "queued"]
    waiting = [a for a in items if a["status"] == "queued"]
    later = datetime.now(UTC) + timedelta(minutes=55)
    assert all(datetime.fromisoformat(a["next_attempt_at"]) > later for a in waiting)
    assert {a["post_id"] for a in items if a["status"] == "done"} == {posts[0].id, posts[1].id}
    # An hour later (we move the sends back in time) the queue drains, still within the limit.
    async with runtime.sessions() as session, session.begin():
        await session.execute(update(Action).where(Action.status == "done")
                              .values(sent_at=datetime.now(UTC) - timedelta(hours=2)))
        await session.execute(update(Action).where(Action.status == "queued").values(next_attempt_at=datetime.now(UTC)))
    report = await pipeline.tick(poll=False)
    assert report.sent == 2
    assert len(world().reposts) == 4


async def test_quiet_hours_hold_posts_until_the_end(client, admin, pipeline):
    now = datetime.now(UTC)
    start, end = (now - timedelta(hours=1)).strftime("%H:%M"), (now + timedelta(hours=2)).strftime("%H:%M")
    quiet = {"quiet_hours_start": start, "quiet_hours_end": end, "timezone": "UTC"}
    account = await make_limited_account(client, admin, quiet)
    await ingest(client, admin, [world().publish("alice", "night #coffee")])
    await pipeline.tick(poll=False)
    [action] = await actions(client, admin, account["id"])
    assert action["status"] == "queued" and not world().reposts
    assert datetime.fromisoformat(action["next_attempt_at"]) > now + timedelta(hours=1, minutes=55)
    assert action["waiting_for"] == "quiet hours"  # the API says why it waits, and until when
    assert datetime.fromisoformat(action["expected_at"]) > now + timedelta(hours=1, minutes=55)


async def test_max_queue_age_skips_with_the_reason(client, admin, pipeline, runtime):
    account = await make_limited_account(client, admin, {"max_queue_age_seconds": 600, "min_interval_seconds": 3600})
    await ingest(client, admin, [world().publish("alice", "a #coffee"), world().publish("alice", "b #coffee")])
    await pipeline.tick(poll=False)
    async with runtime.sessions() as session, session.begin():
        now = datetime.now(UTC)
        await session.execute(update(Action).where(Action.status == "queued")
                              .values(created_at=now - timedelta(hours=1), next_attempt_at=now))
    await pipeline.tick(poll=False)
    statuses = {a["status"]: a for a in await actions(client, admin, account["id"])}
    assert statuses["skipped"]["reason"] == "waited longer than max_queue_age (600 s)"


async def test_rate_limited_by_the_platform_waits_and_shows_on_the_account(client, admin, pipeline):
    account = await make_limited_account(client, admin, {})
    await ingest(client, admin, [world().publish("alice", "a #coffee")])
    world().fail_next(429, {"Retry-After": "600"})
    await pipeline.tick(poll=False)
    [action] = await actions(client, admin, account["id"])
    assert action["status"] == "queued" and action["attempts"] == 0
    shown = (await client.get(f"{API}/accounts/{account['id']}", headers=admin)).json()
    assert shown["status"] == "rate_limited" and shown["rate_limited_until"]
    assert "rate limited until" in shown["status_detail"]
