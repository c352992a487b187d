"""Review queue, undo, quote and like: the moderator's and organizer's single-post controls."""

import pytest

from app.auth.caller import Role
from tests.api.helpers import API, actions, by_post, ingest, make_account, make_rule, world
from tests.conftest import make_token


@pytest.fixture
async def account(client, admin):
    world().add_author("alice", followers_count=100)
    return await make_account(client, admin)


async def test_review_queue_approve_sends_and_reject_does_not(client, admin, pipeline, account):
    await make_rule(client, admin, account["id"], "#latteart", review=True)
    w = world()
    keep, drop = w.publish("alice", "swan #latteart"), w.publish("alice", "blob #latteart")
    await ingest(client, admin, [keep, drop])
    await pipeline.tick(poll=False)
    waiting = by_post(await actions(client, admin, account["id"], status="review"))
    assert set(waiting) == {keep.id, drop.id} and not w.reposts

    approved = await client.post(f"{API}/actions/{waiting[keep.id]['id']}/approve", headers=admin)
    rejected = await client.post(f"{API}/actions/{waiting[drop.id]['id']}/reject", headers=admin)
    assert approved.json()["status"] == "queued" and rejected.json()["status"] == "rejected"
    await pipeline.tick(poll=False)
    log = by_post(await actions(client, admin, account["id"]))
    assert log[keep.id]["status"] == "done" and log[drop.id]["status"] == "rejected"
    assert list(w.reposts) == [("coffeeclub", keep.id)]
    again = await client.post(f"{API}/actions/{waiting[keep.id]['id']}/approve", headers=admin)
    assert again.status_code == 409 and again.json()["error"] == "conflict"


async def test_review_approved_after_the_author_was_blocked_is_not_sent(client, admin, pipeline, account, runtime):
    await make_rule(client, admin, account["id"], "#latteart", review=True)
    post = world().publish("alice", "swan #latteart")
    await ingest(client, admin, [post])
    await pipeline.tick(poll=False)
    [waiting] = await actions(client, admin, account["id"])
    from app.models import Block  # the block lands without the API's eager un-queueing: the send-time check must hold
    async with runtime.sessions() as session, session.begin():
        session.add(Block(account_id=account["id"], author="alice", reason="changed our mind", created_by="test"))
    assert (await client.post(f"{API}/actions/{waiting['id']}/approve", headers=admin)).status_code == 200
    await pipeline.tick(poll=False)
    [action] = await actions(client, admin, account["id"])
    assert action["status"] == "skipped" and action["reason"] == "blocked: changed our mind"
    assert not world().reposts


async def test_undo_a_single_repost_through_the_platform(client, admin, pipeline, account):
    await make_rule(client, admin, account["id"], "#coffee")
    post = world().publish("alice", "hi #coffee")
    await ingest(client, admin, [post])
    await pipeline.tick(poll=False)
    [done] = await actions(client, admin, account["id"])
    response = await client.post(f"{API}/actions/{done['id']}/undo", headers=admin)
    assert response.status_code == 202 and response.json()["undo_requested_at"]
    assert response.json()["status"] == "undoing" and world().reposts  # asked for, not done yet
    await pipeline.tick(poll=False)
    [undone] = await actions(client, admin, account["id"])
    assert undone["status"] == "undone" and undone["undone_at"]
    assert not world().reposts
    assert (await client.post(f"{API}/actions/{done['id']}/reject", headers=admin)).status_code == 409


async def test_undo_of_a_post_the_platform_already_removed(client, admin, pipeline, account):
    await make_rule(client, admin, account["id"], "#coffee")
    post = world().publish("alice", "hi #coffee")
    await ingest(client, admin, [post])
    await pipeline.tick(poll=False)
    world().delete(post.id)  # the author deleted it; the repost went with it
    [done] = await actions(client, admin, account["id"])
    await client.post(f"{API}/actions/{done['id']}/undo", headers=admin)
    await pipeline.tick(poll=False)
    [undone] = await actions(client, admin, account["id"])
    assert undone["status"] == "undone" and undone["error"] == "already removed on the platform"


async def test_undo_of_something_not_sent_is_a_409(client, admin, pipeline, account):
    await make_rule(client, admin, account["id"], "#latteart", review=True)
    await ingest(client, admin, [world().publish("alice", "swan #latteart")])
    await pipeline.tick(poll=False)
    [waiting] = await actions(client, admin, account["id"])
    response = await client.post(f"{API}/actions/{waiting['id']}/undo", headers=admin)
    assert response.status_code == 409 and "only a done action" in response.json()["detail"]
    assert (await client.post(f"{API}/actions/999999/undo", headers=admin)).status_code == 404


async def test_quote_with_a_template_and_like(client, admin, pipeline, account):
    await make_rule(client, admin, account["id"], "#coffee", action="quote",
                    quote_template="From {author} via {rule}: {url}", name="Quotes")
    await make_rule(client, admin, account["id"], "#coffee", action="like", name="Likes")
    post = world().publish("alice", "hi #coffee")
    await ingest(client, admin, [post])
    await pipeline.tick(poll=False)
    kinds = {a["kind"]: a for a in await actions(client, admin, account["id"])}
    assert kinds["quote"]["status"] == "done" and kinds["like"]["status"] == "done"
    quote = world().find(kinds["quote"]["platform_action_id"])
    assert quote.text == f"From @alice via Quotes: {post.url}" and quote.quoted_post_id == post.id
    assert ("coffeeclub", post.id) in world().likes


async def test_quote_without_template_is_refused(client, admin, account):
    response = await client.post(f"{API}/accounts/{account['id']}/rules",
                                 json={"name": "q", "query": "#coffee", "action": "quote"}, headers=admin)
    assert response.status_code == 422 and "quote_template" in response.json()["detail"]


async def _approved_and_sent(client, admin, pipeline, account, text="swan #latteart") -> dict:
    """A reviewed post, approved by the admin token and sent."""
    await make_rule(client, admin, account["id"], "#latteart", review=True)
    await ingest(client, admin, [world().publish("alice", text)])
    await pipeline.tick(poll=False)
    [waiting] = await actions(client, admin, account["id"])
    assert (await client.post(f"{API}/actions/{waiting['id']}/approve", headers=admin)).status_code == 200
    await pipeline.tick(poll=False)
    done = (await client.get(f"{API}/actions/{waiting['id']}", headers=admin)).json()
    assert done["status"] == "done" and "admin" in done["decided_by"] and done["undo_requested_by"] is None
    return done


async def test_undo_answers_undoing_and_keeps_who_approved_the_repost(client, admin, pipeline, account, runtime):
    done = await _approved_and_sent(client, admin, pipeline, account)
    moderator = await make_token(runtime, Role.moderator, [account["id"]])
    response = await client.post(f"{API}/actions/{done['id']}/undo", headers=moderator)
    undoing = response.json()
    assert response.status_code == 202 and undoing["status"] == "undoing" and undoing["undo_requested_at"]
    assert undoing["decided_by"] == done["decided_by"] and "moderator" in undoing["undo_requested_by"]
    assert [a["id"] for a in await actions(client, admin, account["id"], status="undoing")] == [done["id"]]
    assert world().reposts  # the platform has not been asked yet
    health = f"{API}/accounts/{account['id']}/health"
    assert (await client.get(health, headers=admin)).json()["undos_waiting"] == 1

    await pipeline.tick(poll=False)
    undone = (await client.get(f"{API}/actions/{done['id']}", headers=admin)).json()
    assert undone["status"] == "undone" and undone["undone_at"] and not world().reposts
    assert (await client.get(health, headers=admin)).json()["undos_waiting"] == 0
    assert (undone["decided_by"], undone["undo_requested_by"]) == (done["decided_by"], undoing["undo_requested_by"])


async def test_asking_twice_changes_nothing_and_the_first_request_stands(client, admin, pipeline, account, runtime):
    done = await _approved_and_sent(client, admin, pipeline, account)
    moderator = await make_token(runtime, Role.moderator, [account["id"]])
    first = (await client.post(f"{API}/actions/{done['id']}/undo", headers=moderator)).json()
    again = await client.post(f"{API}/actions/{done['id']}/undo", headers=admin)
    assert again.status_code == 202 and again.json()["status"] == "undoing"
    assert {k: again.json()[k] for k in ("undo_requested_at", "undo_requested_by", "decided_by")} == {
        k: first[k] for k in ("undo_requested_at", "undo_requested_by", "decided_by")}
    await pipeline.tick(poll=False)
    after = await client.post(f"{API}/actions/{done['id']}/undo", headers=admin)
    assert after.status_code == 202 and after.json()["status"] == "undone"
    assert after.json()["undo_requested_by"] == first["undo_requested_by"]
    undos = (await client.get(f"{API}/audit", params={"action": "action.undo"}, headers=admin)).json()
    assert undos["total"] == 1  # the repeated requests were not recorded as undos


async def test_an_undo_the_platform_fails_is_retried_while_undoing(client, admin, pipeline, account):
    done = await _approved_and_sent(client, admin, pipeline, account)
    await client.post(f"{API}/actions/{done['id']}/undo", headers=admin)
    world().fail_next(503, times=3)  # every in-call retry of this tick fails
    await pipeline.tick(poll=False)
    failing = (await client.get(f"{API}/actions/{done['id']}", headers=admin)).json()
    assert failing["status"] == "undoing" and failing["error"].startswith("undo failed: mock: HTTP 503")
    assert failing["next_attempt_at"] and world().reposts
    await pipeline.tick(poll=False)
    undone = (await client.get(f"{API}/actions/{done['id']}", headers=admin)).json()
    assert undone["status"] == "undone" and undone["error"] is None and not world().reposts


async def test_an_undo_the_platform_refuses_for_good_is_done_again_with_the_error(client, admin, pipeline, account):
    done = await _approved_and_sent(client, admin, pipeline, account)
    await client.post(f"{API}/actions/{done['id']}/undo", headers=admin)
    world().fail_next(400)  # not retryable: the policy gives up at once
    await pipeline.tick(poll=False)
    back = (await client.get(f"{API}/actions/{done['id']}", headers=admin)).json()
    assert back["status"] == "done" and world().reposts
    assert back["error"] == "undo failed: mock: HTTP 400; gave up after 1 try: the repost is still there"
    assert (back["undo_requested_at"], back["undo_requested_by"], back["decided_by"]) == (None, None,
                                                                                          done["decided_by"])
    failed = (await client.get(f"{API}/audit", params={"action": "action.undo_failed"}, headers=admin)).json()
    assert failed["total"] == 1 and failed["items"][0]["detail"]["error"] == back["error"]

    again = await client.post(f"{API}/actions/{done['id']}/undo", headers=admin)  # it may be asked for again
    assert again.json()["status"] == "undoing" and again.json()["error"] is None
    await pipeline.tick(poll=False)
    assert (await client.get(f"{API}/actions/{done['id']}", headers=admin)).json()["status"] == "undone"


async def test_audit_entries_of_actions_name_the_author_and_a_snippet(client, admin, pipeline, account, runtime):
    long = "A swan in the foam, poured slowly at dawn by our newest barista, who practised for weeks #latteart"
    done = await _approved_and_sent(client, admin, pipeline, account, text=long)
    moderator = await make_token(runtime, Role.moderator, [account["id"]])
    await client.post(f"{API}/actions/{done['id']}/undo", headers=moderator)
    await pipeline.tick(poll=False)
    events = (await client.get(f"{API}/audit", params={"account_id": account["id"]}, headers=admin)).json()["items"]
    by_action = {e["action"]: e for e in events if e["target_type"] == "action"}
    assert set(by_action) == {"action.approve", "action.undo", "action.undone"}
    alice = world().authors["alice"]
    for event in by_action.values():
        detail = event["detail"]
        assert (detail["post_id"], detail["author_id"], detail["author_handle"]) == (
            done["post_id"], alice.id, "alice")
        assert detail["snippet"] == long[:79] + "…" and len(detail["snippet"]) == 80
    assert "moderator" in by_action["action.undo"]["actor"] and by_action["action.undo"]["detail"]["why"] == ""
    assert by_action["action.undone"]["actor"] == "system"
    assert "moderator" in by_action["action.undone"]["detail"]["by"]


async def test_a_reject_without_a_snapshot_takes_the_snippet_from_the_stored_post(client, admin, pipeline, account,
                                                                                  runtime):
    from sqlalchemy import update

    from app.models import Action

    await make_rule(client, admin, account["id"], "#latteart", review=True)
    await ingest(client, admin, [world().publish("alice", "blob  #latteart")])
    await pipeline.tick(poll=False)
    [waiting] = await actions(client, admin, account["id"])
    async with runtime.sessions() as session, session.begin():  # as actions made before snapshots were kept
        await session.execute(update(Action).values(snapshot=None))
    assert (await client.post(f"{API}/actions/{waiting['id']}/reject", headers=admin)).status_code == 200
    [event] = (await client.get(f"{API}/audit", params={"action": "action.reject"}, headers=admin)).json()["items"]
    assert event["detail"]["snippet"] == "blob #latteart" and event["detail"]["author_handle"] == "alice"
