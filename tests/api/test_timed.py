"""Timed reposts through the API and the pipeline: a rule's timing (delay, spread, at) and its promotion
window (undo_after_hours), on both databases. Time moves by moving the rows' times back, as in test_limits."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from app.models import Action
from app.pipeline import dispatcher
from tests.api.helpers import API, actions, by_post, ingest, make_account, make_rule, world


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def near(moment: datetime, expected: datetime, seconds: float = 60) -> bool:
    return abs((moment - expected).total_seconds()) <= seconds


async def _account_and_rule(client, admin, timezone: str = "UTC", **rule) -> tuple[dict, dict]:
    account = await make_account(client, admin)
    if timezone != "UTC":
        answer = await client.patch(f"{API}/accounts/{account['id']}", json={"limits": {"timezone": timezone}},
                                    headers=admin)
        assert answer.status_code == 200, answer.text
    return account, await make_rule(client, admin, account["id"], "#coffee", **rule)


async def _due_now(runtime, *ids: int) -> None:
    """As if the rule's time had come: the actions' scheduled and next times moved to now."""
    async with runtime.sessions() as session, session.begin():
        now = datetime.now(UTC)
        where = Action.id.in_(ids) if ids else Action.status == "queued"
        await session.execute(update(Action).where(where).values(scheduled_at=now, next_attempt_at=now))


async def test_a_delayed_match_waits_for_its_time_even_on_the_push_path(client, admin, pipeline, runtime):
    account, rule = await _account_and_rule(client, admin, timing={"mode": "delay", "minutes": 30})
    assert rule["timing"] == {"mode": "delay", "minutes": 30} and rule["undo_after_hours"] is None
    before = datetime.now(UTC)
    await ingest(client, admin, [world().publish("alice", "a #coffee")])
    await pipeline.match_all()
    # the push path starts the sends of what was just queued: a delayed one is not due, nothing starts
    assert await dispatcher.send_now(runtime, pipeline.fanout, dict(pipeline.matcher.queued)) == 0
    await pipeline.tick(poll=False)  # nor does the sending job send it early
    [action] = await actions(client, admin, account["id"])
    assert action["status"] == "queued" and not world().reposts
    assert near(at(action["scheduled_at"]), before + timedelta(minutes=30))
    assert action["next_attempt_at"] == action["scheduled_at"]
    assert action["waiting_for"] == "rule timing" and action["expected_at"] == action["scheduled_at"]
    await _due_now(runtime)
    await pipeline.tick(poll=False)
    [action] = await actions(client, admin, account["id"])
    assert action["status"] == "done" and len(world().reposts) == 1


async def test_a_burst_is_spread_across_the_window(client, admin, pipeline, runtime):
    account, _ = await _account_and_rule(client, admin, timing={"mode": "spread", "window_minutes": 120})
    posts = [world().publish("alice", f"cup {i} #coffee") for i in range(4)]
    await ingest(client, admin, posts)
    await pipeline.tick(poll=False)
    items = by_post(await actions(client, admin, account["id"]))
    start = at(items[posts[0].id]["scheduled_at"])
    offsets = [(at(items[p.id]["scheduled_at"]) - start) / timedelta(minutes=1) for p in posts]
    assert offsets == [0, 60, 30, 90]  # start, half-way, a quarter, three quarters
    assert [items[p.id]["status"] for p in posts] == ["done", "queued", "queued", "queued"]
    # a later match of the same window takes the next point (an eighth); one after the window opens the next
    late = world().publish("alice", "cup 4 #coffee")
    await ingest(client, admin, [late])
    await pipeline.tick(poll=False)
    items = by_post(await actions(client, admin, account["id"]))
    assert at(items[late.id]["scheduled_at"]) - start == timedelta(minutes=15)
    async with runtime.sessions() as session, session.begin():
        await session.execute(update(Action).values(spread_start=start - timedelta(hours=3)))
    after = world().publish("alice", "cup 5 #coffee")
    await ingest(client, admin, [after])
    await pipeline.tick(poll=False)
    items = by_post(await actions(client, admin, account["id"]))
    assert items[after.id]["status"] == "done"  # the first of a new window goes at once
    assert len(world().reposts) == 2


async def test_at_times_are_the_accounts_local_times(client, admin, pipeline):
    zone = ZoneInfo("Asia/Tokyo")
    local = datetime.now(zone)
    soon, gone = (local + timedelta(hours=2)).strftime("%H:%M"), (local - timedelta(hours=1)).strftime("%H:%M")
    account, rule = await _account_and_rule(client, admin, timezone="Asia/Tokyo",
                                            timing={"mode": "at", "times": [soon, gone]})
    assert rule["timing"] == {"mode": "at", "times": sorted([soon, gone])}
    await ingest(client, admin, [world().publish("alice", "a #coffee")])
    await pipeline.tick(poll=False)
    [action] = await actions(client, admin, account["id"])
    expected = (local + timedelta(hours=2)).replace(second=0, microsecond=0)
    assert at(action["scheduled_at"]) == expected and action["status"] == "queued" and not world().reposts
    assert action["waiting_for"] == "rule timing"


async def test_a_reviewed_match_keeps_its_rules_time(client, admin, pipeline):
    account, _ = await _account_and_rule(client, admin, review=True, timing={"mode": "delay", "minutes": 60})
    await ingest(client, admin, [world().publish("alice", "a #coffee")])
    await pipeline.tick(poll=False)
    [held] = await actions(client, admin, account["id"])
    approved = await client.post(f"{API}/actions/{held['id']}/approve", headers=admin)
    assert approved.status_code == 200, approved.text
    await pipeline.tick(poll=False)
    [action] = await actions(client, admin, account["id"])
    assert action["status"] == "queued" and action["next_attempt_at"] == held["scheduled_at"] and not world().reposts


async def test_a_promotion_window_undoes_the_repost_after_n_hours(client, admin, pipeline, runtime):
    account, rule = await _account_and_rule(client, admin, name="launch week", undo_after_hours=24)
    await ingest(client, admin, [world().publish("alice", "launch #coffee")])
    await pipeline.tick(poll=False)
    [sent] = await actions(client, admin, account["id"])
    assert sent["status"] == "done" and at(sent["undo_at"]) == at(sent["sent_at"]) + timedelta(hours=24)
    # a later edit of the rule does not move the window of what it sent already
    edited = await client.patch(f"{API}/rules/{rule['id']}", json={"undo_after_hours": 48}, headers=admin)
    assert edited.status_code == 200 and edited.json()["undo_after_hours"] == 48
    await pipeline.tick(poll=False)
    [still] = await actions(client, admin, account["id"])
    assert still["status"] == "done" and still["undo_at"] == sent["undo_at"] and len(world().reposts) == 1
    async with runtime.sessions() as session, session.begin():
        ended = datetime.now(UTC) - timedelta(seconds=1)  # a day went by
        await session.execute(update(Action).values(undo_at=ended, sent_at=ended - timedelta(hours=24)))
    await pipeline.tick(poll=False)
    [undone] = await actions(client, admin, account["id"])
    assert undone["status"] == "undone" and not world().reposts and undone["undo_at"] is None
    assert undone["reason"] == 'promotion window of rule "launch week" ended (after 24 h)'
    assert undone["undo_requested_by"] == "system"
    [event] = (await client.get(f"{API}/audit", params={"action": "action.undo"}, headers=admin)).json()["items"]
    assert event["detail"]["why"] == undone["reason"]


@pytest.mark.parametrize(("body", "said"), [
    ({"timing": {"mode": "later"}}, "does not match any of the expected tags"),
    ({"timing": {"mode": "delay", "minutes": -5}}, "greater than or equal to 1"),
    ({"timing": {"mode": "delay", "minutes": 10**12}}, "less than or equal to 10080"),
    ({"timing": {"mode": "spread", "window_minutes": 0}}, "greater than or equal to 1"),
    ({"timing": {"mode": "at", "times": ["25:00"]}}, "'25:00' is not a time of day HH:MM"),
    ({"timing": {"mode": "at", "times": ["09:00\x00"]}}, "cannot contain NUL"),
    ({"timing": {"mode": "at", "times": []}}, "at least 1 item"),
    ({"timing": {"mode": "now", "minutes": 5}}, "Extra inputs are not permitted"),
    ({"undo_after_hours": 0}, "greater than or equal to 1"),
    ({"undo_after_hours": 2**40}, "less than or equal to 8760"),
])
async def test_bad_timing_is_refused_and_changes_nothing(client, admin, body, said):
    account, rule = await _account_and_rule(client, admin)
    made = await client.post(f"{API}/accounts/{account['id']}/rules", json={"name": "x", **body}, headers=admin)
    changed = await client.patch(f"{API}/rules/{rule['id']}", json=body, headers=admin)
    for answer in (made, changed):
        assert answer.status_code == 422 and said in str(answer.json()["detail"]), answer.text
    rules = (await client.get(f"{API}/accounts/{account['id']}/rules", headers=admin)).json()["items"]
    assert [(r["id"], r["timing"], r["undo_after_hours"]) for r in rules] == [(rule["id"], {"mode": "now"}, None)]
