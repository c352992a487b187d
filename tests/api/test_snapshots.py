"""What an action keeps of what was decided on, and why a waiting action waits, through the API."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from app.models import Action
from tests.api.helpers import API, actions, by_post, ingest, make_account, make_limited_account, make_rule, world


async def test_a_matched_posts_action_keeps_the_post_author_rule_and_terms(client, admin, pipeline):
    account = await make_account(client, admin)
    w = world()
    w.add_author("alice", display_name="Alice Roast", followers_count=321)
    rule = await make_rule(client, admin, account["id"], "(#coffee OR espresso) -decaf from:alice",
                           name="Coffee friends")
    assert [a["author_id"] for a in rule["authors"]] == [w.authors["alice"].id]  # indexed by id, shown by name
    post = w.publish("alice", "Morning brew #coffee " + "x" * 1200, media_count=2)
    await ingest(client, admin, [post])
    await pipeline.tick(poll=False)

    [action] = await actions(client, admin, account["id"])
    snapshot = action["snapshot"]
    assert snapshot["text"] == post.text[:1000] and snapshot["text_truncated"] is True
    assert snapshot["media_count"] == 2
    assert (snapshot["author_display_name"], snapshot["author_followers"]) == ("Alice Roast", 321)
    assert snapshot["rule_name"] == "Coffee friends"
    assert snapshot["terms"] == ["#coffee", "-decaf", "from:alice"]  # espresso did not hold
    one = await client.get(f"{API}/actions/{action['id']}", headers=admin)
    assert one.json()["snapshot"] == snapshot


async def test_an_action_over_the_hourly_cap_says_so_and_when(client, admin, pipeline):
    account = await make_limited_account(client, admin, {"max_per_hour": 1})
    await ingest(client, admin, [world().publish("alice", f"cup {i} #coffee") for i in range(2)])
    await pipeline.tick(poll=False)

    log = await actions(client, admin, account["id"])
    [done] = [a for a in log if a["status"] == "done"]
    [queued] = [a for a in log if a["status"] == "queued"]
    assert done["waiting_for"] is None and done["expected_at"] is None
    assert queued["waiting_for"] == "hourly cap"
    expected = datetime.fromisoformat(queued["expected_at"])
    assert datetime.now(UTC) + timedelta(minutes=55) < expected <= datetime.now(UTC) + timedelta(hours=1)


async def test_a_review_action_waits_for_review_and_approval_queues_it(client, admin, pipeline):
    account = await make_account(client, admin)
    await make_rule(client, admin, account["id"], "#latteart", review=True)
    post = world().publish("alice", "a swan #latteart")
    await ingest(client, admin, [post])
    await pipeline.tick(poll=False)

    action = by_post(await actions(client, admin, account["id"]))[post.id]
    assert (action["status"], action["waiting_for"], action["expected_at"]) == ("review", "review", None)
    approved = await client.post(f"{API}/actions/{action['id']}/approve", headers=admin)
    assert approved.status_code == 200, approved.text
    assert approved.json()["waiting_for"] is None  # nothing holds it: the next round sends it
    assert approved.json()["expected_at"] is not None


async def test_a_failed_action_waits_for_its_retry(client, admin, pipeline, runtime):
    account = await make_account(client, admin)
    await make_rule(client, admin, account["id"], "#coffee")
    await ingest(client, admin, [world().publish("alice", "hello #coffee")])
    world().fail_next(503, times=3)  # every in-call retry fails
    await pipeline.tick(poll=False)
    retry = datetime.now(UTC) + timedelta(minutes=10)  # retry_base_seconds is 0 in tests: a real backoff
    async with runtime.sessions() as session, session.begin():
        await session.execute(update(Action).values(next_attempt_at=retry))

    [failed] = await actions(client, admin, account["id"])
    assert (failed["status"], failed["waiting_for"]) == ("failed", "retry after failure")
    assert datetime.fromisoformat(failed["expected_at"]) == retry
