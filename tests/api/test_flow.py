"""Rules in, reposts out: through the API, the scheduler tick and the mock platform."""

from sqlalchemy import select, update

from app.db.base import utcnow
from app.models import Account, Action
from tests.api.helpers import API, actions, by_post, ingest, make_account, make_rule, world


async def test_create_account_rule_ingest_tick_reposts_the_right_posts(client, admin, pipeline, runtime):
    account = await make_account(client, admin)
    w = world()
    w.add_author("alice"), w.add_author("bob")
    w.follow("alice", "coffeeclub")
    await make_rule(client, admin, account["id"], "#coffee -is:reply", scope="followers")
    member = w.publish("alice", "Morning brew #coffee")
    outsider = w.publish("bob", "My #coffee too")
    reply = w.publish("alice", "agreed #coffee", is_reply=True)
    unrelated = w.publish("alice", "Tea time")
    assert (await ingest(client, admin, [member, outsider, reply, unrelated]))["new"] == 4

    report = await pipeline.tick(poll=False)

    assert report.sent == 1
    log = by_post(await actions(client, admin, account["id"]))
    assert log[member.id]["status"] == "done" and log[member.id]["platform_action_id"]
    assert log[outsider.id]["status"] == "skipped"
    assert log[outsider.id]["reason"] == "scope: not a follower"
    assert reply.id not in log and unrelated.id not in log  # the query did not match: no action at all
    assert ("coffeeclub", member.id) in w.reposts and ("coffeeclub", outsider.id) not in w.reposts


async def test_polling_through_the_feed_source_keeps_a_cursor(client, admin, pipeline):
    account = await make_account(client, admin)
    await make_rule(client, admin, account["id"], "espresso")
    w = world()
    first = w.publish("alice", "An espresso please")
    await pipeline.tick()
    second = w.publish("bob", "Espresso-based drinks are the best")
    w.publish("bob", "nothing to see")
    await pipeline.tick()
    done = [a["post_id"] for a in await actions(client, admin, account["id"], status="done")]
    assert sorted(done) == sorted([first.id, second.id])


async def test_the_same_post_twice_is_reposted_once(client, admin, pipeline):
    account = await make_account(client, admin)
    await make_rule(client, admin, account["id"], "#coffee")
    post = world().publish("alice", "hello #coffee")
    await ingest(client, admin, [post])
    await pipeline.tick(poll=False)
    assert (await ingest(client, admin, [post, post]))["new"] == 0
    await pipeline.tick()  # the poller sees it again in the mock's public feed too
    await pipeline.tick()
    items = await actions(client, admin, account["id"])
    assert [(a["post_id"], a["status"]) for a in items] == [(post.id, "done")]
    assert sum(1 for key in world().reposts if key[0] == "coffeeclub") == 1


async def _stuck_in_sending(runtime, account_id: int) -> int:
    """Leave the account's action as a crashed worker would: sending, with an expired lease."""
    async with runtime.sessions() as session, session.begin():
        action = await session.scalar(select(Action).where(Action.account_id == account_id))
        action.status, action.attempts = "sending", 1
        action.lease_owner, action.lease_expires_at = "dead-worker", utcnow()
        return action.id


async def test_restart_after_crash_before_the_platform_call_sends_once(client, admin, pipeline, runtime):
    account = await make_account(client, admin)
    await make_rule(client, admin, account["id"], "#coffee")
    post = world().publish("alice", "hello #coffee")
    await ingest(client, admin, [post])
    await pipeline.match_all()  # matched and queued; the worker dies before it sends
    await _stuck_in_sending(runtime, account["id"])

    from app.scheduler.jobs import Pipeline
    restarted = Pipeline(runtime)  # a new process: empty index, nothing in memory
    report = await restarted.tick(poll=False)

    assert report.reconciled == 1 and report.sent == 1
    assert [a["status"] for a in await actions(client, admin, account["id"])] == ["done"]
    assert sum(1 for key in world().reposts if key[0] == "coffeeclub") == 1


async def test_restart_after_the_platform_call_does_not_send_again(client, admin, pipeline, runtime):
    account = await make_account(client, admin)
    await make_rule(client, admin, account["id"], "#coffee")
    post = world().publish("alice", "hello #coffee")
    await ingest(client, admin, [post])
    await pipeline.tick(poll=False)
    async with runtime.sessions() as session, session.begin():  # the call went out, the worker died
        await session.execute(update(Action).values(status="sending", sent_at=None, lease_expires_at=utcnow()))
    world().reposts.clear()
    world().reposts[("coffeeclub", post.id)] = "r-existing"
    calls_before = world().calls

    report = await pipeline.tick(poll=False)

    assert report.reconciled == 1 and report.sent == 0
    assert [a["status"] for a in await actions(client, admin, account["id"])] == ["done"]
    assert world().calls - calls_before == 1  # only has_reposted asked; no second repost


async def test_platform_error_leaves_failed_with_error_and_retry_time_then_retries(client, admin, pipeline, runtime):
    account = await make_account(client, admin)
    await make_rule(client, admin, account["id"], "#coffee")
    post = world().publish("alice", "hello #coffee")
    await ingest(client, admin, [post])
    world().fail_next(503, times=3)  # every in-call retry fails
    await pipeline.tick(poll=False)
    [failed] = await actions(client, admin, account["id"])
    assert failed["status"] == "failed"
    assert "503" in failed["error"] or "server error" in failed["error"]
    assert failed["next_attempt_at"] is not None and failed["attempts"] == 1

    await pipeline.tick(poll=False)  # retry_base_seconds=0 in tests: due at once
    [done] = await actions(client, admin, account["id"])
    assert done["status"] == "done" and done["attempts"] == 2


async def test_credentials_are_encrypted_at_rest_and_never_returned(client, admin, runtime):
    account = await make_account(client, admin, handle="secretive")
    assert "credentials" not in account and account["has_credentials"] is True
    listed = (await client.get(f"{API}/accounts", headers=admin)).json()
    assert "tok-secretive" not in str(listed)
    async with runtime.sessions() as session:
        stored = await session.scalar(select(Account.credentials_encrypted).where(Account.id == account["id"]))
    assert "tok-secretive" not in stored and stored.startswith("gAAAA")


async def test_rule_changes_take_effect_for_the_next_post(client, admin, pipeline):
    account = await make_account(client, admin)
    rule = await make_rule(client, admin, account["id"], "#coffee")
    w = world()

    async def repost_of(text: str) -> str | None:
        post = w.publish("alice", text)
        await ingest(client, admin, [post])
        await pipeline.tick(poll=False)
        return by_post(await actions(client, admin, account["id"])).get(post.id, {}).get("status")

    assert await repost_of("one #coffee") == "done"
    await client.patch(f"{API}/rules/{rule['id']}", json={"query": "#tea"}, headers=admin)
    assert await repost_of("two #coffee") is None
    assert await repost_of("three #tea") == "done"
    await client.patch(f"{API}/rules/{rule['id']}", json={"enabled": False}, headers=admin)
    assert await repost_of("four #tea") is None
    await client.patch(f"{API}/rules/{rule['id']}", json={"enabled": True}, headers=admin)
    assert await repost_of("five #tea") == "done"
    other = await make_rule(client, admin, account["id"], "#cocoa")
    await client.delete(f"{API}/rules/{rule['id']}", headers=admin)
    assert await repost_of("six #tea") is None
    assert await repost_of("seven #cocoa") == "done"
    assert len(pipeline.matcher.compiled.index) == 1 and other["id"] in pipeline.matcher.compiled.rules


async def test_old_unreferenced_posts_leave_the_inbox(client, admin, pipeline, runtime):
    from datetime import timedelta

    from app.models import SeenPost

    account = await make_account(client, admin)
    await make_rule(client, admin, account["id"], "#coffee")
    kept, dropped = world().publish("alice", "hi #coffee"), world().publish("alice", "nothing here")
    await ingest(client, admin, [kept, dropped])
    await pipeline.tick(poll=False)
    async with runtime.sessions() as session, session.begin():
        await session.execute(update(SeenPost).values(seen_at=utcnow() - timedelta(days=30)))
    pipeline._last_prune = -1e9
    await pipeline.tick(poll=False)
    async with runtime.sessions() as session:
        left = set(await session.scalars(select(SeenPost.post_id)))
    assert left == {kept.id}


async def test_a_new_source_does_not_repost_its_history(client, admin, pipeline):
    from datetime import timedelta

    account = await make_account(client, admin)
    await make_rule(client, admin, account["id"], "#coffee")
    old = world().publish("alice", "last week #coffee", created_at=utcnow() - timedelta(days=7))
    recent = world().publish("alice", "this morning #coffee", created_at=utcnow() - timedelta(minutes=10))
    await pipeline.tick()
    done = [a["post_id"] for a in await actions(client, admin, account["id"], status="done")]
    assert done == [recent.id] and old.id not in done


async def test_config_that_does_not_fit_the_platform_is_a_422(client, admin):
    bad = {"platform": "mastodon", "handle": "bot", "credentials": {"access_token": "t"}, "config": {}}
    response = await client.post(f"{API}/accounts", json=bad, headers=admin)
    assert response.status_code == 422 and response.json()["error"] == "invalid config"
    assert response.json()["detail"][0]["field"] == "base_url"
    account = await make_account(client, admin)
    patched = await client.patch(f"{API}/accounts/{account['id']}", json={"config": {"page_size": 0}}, headers=admin)
    assert patched.status_code == 422
    assert (await client.get(f"{API}/accounts/{account['id']}", headers=admin)).json()["config"] == {}


async def test_a_source_dropped_and_added_back_is_polled_at_once(client, admin, pipeline):
    account = await make_account(client, admin, sources=["tag:coffee"])
    await make_rule(client, admin, account["id"], "#coffee OR #tea")
    await pipeline.tick()
    await client.patch(f"{API}/accounts/{account['id']}", json={"sources": ["tag:tea"]}, headers=admin)
    await pipeline.tick()
    await client.patch(f"{API}/accounts/{account['id']}", json={"sources": ["tag:coffee", "tag:tea"]}, headers=admin)
    post = world().publish("alice", "back again #coffee")
    await pipeline.tick()
    assert [a["post_id"] for a in await actions(client, admin, account["id"], status="done")] == [post.id]
