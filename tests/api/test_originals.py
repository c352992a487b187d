"""Originals that change after the repost: a deleted one marks the action, an edited one is checked again."""

import pytest

from app.pipeline import originals
from tests.api.helpers import API, actions, by_post, ingest, make_account, make_rule, world


@pytest.fixture
async def account(client, admin, runtime):
    world().add_author("alice", followers_count=100)
    runtime.settings.originals_check_seconds = 0.001  # look again at once (the default is hourly)
    return await make_account(client, admin)


async def _reposted(client, admin, pipeline, account, *texts):
    posts = [world().publish("alice", text) for text in texts]
    await ingest(client, admin, posts)
    await pipeline.tick(poll=False)
    log = by_post(await actions(client, admin, account["id"]))
    assert all(log[p.id]["status"] == "done" for p in posts)
    return posts


async def test_an_original_edited_out_of_the_rule_is_undone_with_the_reason(client, admin, pipeline, account):
    await make_rule(client, admin, account["id"], "#coffee", name="Coffee")
    post, kept = await _reposted(client, admin, pipeline, account, "great beans #coffee", "more beans #coffee")
    world().edit(post.id, "great beans, now selling crypto")
    world().edit(kept.id, "more beans #coffee, roasted today")
    await pipeline.tick(poll=False)  # looks at the originals, asks for the undo
    await pipeline.tick(poll=False)  # carries the undo out
    log = by_post(await actions(client, admin, account["id"]))
    assert log[post.id]["status"] == "undone" and log[post.id]["original_state"] == "edited"
    assert log[post.id]["reason"] == "original edited: no longer matches rule 'Coffee'"
    assert log[kept.id]["status"] == "done" and log[kept.id]["original_state"] == "edited"
    assert list(world().reposts) == [("coffeeclub", kept.id)]
    audit = (await client.get(f"{API}/audit", headers=admin)).json()["items"]
    assert any(e["action"] == "action.undo" and e["actor"] == "system" for e in audit)


async def test_an_edit_that_trips_a_filter_or_a_block_is_undone_too(client, admin, pipeline, account):
    await make_rule(client, admin, account["id"], "#coffee")
    put = await client.put(f"{API}/accounts/{account['id']}/filters", json={"banned_words": ["giveaway"]},
                           headers=admin)
    assert put.status_code == 200, put.text
    [post] = await _reposted(client, admin, pipeline, account, "beans #coffee")
    world().edit(post.id, "beans #coffee giveaway now")
    await pipeline.tick(poll=False)
    await pipeline.tick(poll=False)
    [action] = await actions(client, admin, account["id"])
    assert action["status"] == "undone" and action["reason"].startswith("original edited: filter: banned word")


async def test_a_deleted_original_marks_the_action(client, admin, pipeline, account):
    await make_rule(client, admin, account["id"], "#coffee")
    [post] = await _reposted(client, admin, pipeline, account, "beans #coffee")
    world().delete(post.id)
    await pipeline.tick(poll=False)
    [action] = await actions(client, admin, account["id"])
    assert action["original_state"] == "deleted" and action["reason"] == "original deleted by its author"
    assert action["status"] == "done" and action["original_checked_at"]


async def test_unchanged_originals_are_left_alone_and_looked_at_once_per_interval(client, admin, pipeline, account,
                                                                                  runtime):
    await make_rule(client, admin, account["id"], "#coffee")
    [_post] = await _reposted(client, admin, pipeline, account, "beans #coffee")
    runtime.settings.originals_check_seconds = 3600
    calls = world().calls
    assert await originals.check_due(runtime) == 0
    assert world().calls == calls  # sent just now: not due for an hour
    runtime.settings.originals_check_seconds = 0.001
    assert await originals.check_due(runtime) == 0
    assert world().calls == calls + 1
    [action] = await actions(client, admin, account["id"])
    assert action["status"] == "done" and action["original_state"] is None and action["original_checked_at"]


async def test_mastodon_stream_deletions_and_edits_settle_reposts_at_once(client, admin, pipeline, runtime,
                                                                          monkeypatch):
    """Mastodon announces `delete` and `status.update` on its streams: no hourly look is waited for."""
    import asyncio

    from app.pipeline.streamer import Streamer
    from tests.api.test_nothing_lost import connect, rule
    from tests.api.test_real_platforms import _harness

    h = _harness("mastodon", runtime, monkeypatch)
    account = await connect(client, admin, h, stream=True)
    await rule(client, admin, account["id"], "#coffee")
    kept, gone = h.add_post("plain", text="beans #coffee"), h.add_post("plain", text="more #coffee")
    await pipeline.tick()
    assert {a["post_id"] for a in await actions(client, admin, account["id"], status="done")} == {kept, gone}
    h.fake.push_event("user", "status.update", h.fake.render(h.fake.edit_status(kept, "beans, no tag now")))
    h.fake.push_event("user", "delete", gone)
    streamer = Streamer(runtime)
    try:
        await streamer.sync()
        for _ in range(500):
            log = by_post(await actions(client, admin, account["id"]))
            if log[kept]["undo_requested_at"] and log[gone]["original_state"] == "deleted":
                break
            await asyncio.sleep(0.02)
    finally:
        await streamer.stop()
    await pipeline.tick(poll=False)
    log = by_post(await actions(client, admin, account["id"]))
    assert log[kept]["status"] == "undone" and log[kept]["original_state"] == "edited"
    assert log[kept]["reason"] == "original edited: no longer matches rule '#coffee'"
    assert log[gone]["original_state"] == "deleted" and log[gone]["reason"] == "original deleted by its author"
