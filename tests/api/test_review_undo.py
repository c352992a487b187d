"""Review queue, undo, quote and like: the moderator's and organizer's single-post controls."""

import pytest

from tests.api.helpers import API, actions, by_post, ingest, make_account, make_rule, world


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
