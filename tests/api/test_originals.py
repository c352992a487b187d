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
    put = await client.put(f"{API}/accounts/{account['id']}/filters", json={"banned_words": ["giveaway"]}, headers=admin)
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
    [post] = await _reposted(client, admin, pipeline, account, "beans #coffee")
    runtime.settings.originals_check_seconds = 3600
    calls = world().calls
    assert await originals.check_due(runtime) == 0
    assert world().calls == calls  # sent just now: not due for an hour
    runtime.settings.originals_check_seconds = 0.001
    assert await originals.check_due(runtime) == 0
    assert world().calls == calls + 1
    [action] = await actions(client, admin, account["id"])
    assert action["status"] == "done" and action["original_state"] is None and action["original_checked_at"]
