"""Scopes, filters, blocks, opt-outs: through the API and the pipeline, on both databases."""

import pytest

from tests.api.helpers import API, actions, by_post, ingest, make_account, make_rule, world


@pytest.fixture
async def account(client, admin):
    w = world()
    for handle in ("alice", "bob", "carol", "dave", "erin"):
        w.add_author(handle, followers_count=100)
    w.follow("alice", "coffeeclub")
    w.follow("coffeeclub", "bob")
    w.lists["baristas"] = {"carol"}
    return await make_account(client, admin)


async def _run(client, admin, pipeline, posts):
    await ingest(client, admin, posts)
    await pipeline.tick(poll=False)


@pytest.mark.parametrize("scope, allowed", [
    ("followers", "alice"), ("following", "bob"), ("list:baristas", "carol"), ("users:[dave, @Erin]", "dave"),
])
async def test_set_scopes_with_an_empty_query_take_everything_those_people_post(client, admin, pipeline, account, scope,
                                                                                 allowed):
    await make_rule(client, admin, account["id"], "", scope=scope)
    w = world()
    posts = [w.publish(h, f"just {h} saying hi") for h in ("alice", "bob", "carol", "dave")]
    await _run(client, admin, pipeline, posts)
    log = by_post(await actions(client, admin, account["id"]))
    assert {log[p.id]["author_handle"] for p in posts if p.id in log} == {allowed}
    assert [a["status"] for a in log.values()] == ["done"]  # an empty query leaves no trace outside its scope


async def test_scope_follows_the_platform_after_a_refresh(client, admin, pipeline, account, runtime):
    await make_rule(client, admin, account["id"], "#coffee", scope="followers")
    w = world()
    first = w.publish("dave", "hello #coffee")
    await _run(client, admin, pipeline, [first])
    w.follow("dave", "coffeeclub")
    pipeline.relations_max_age = 0
    pipeline._last_relations = -1e9
    second = w.publish("dave", "now a member #coffee")
    await _run(client, admin, pipeline, [second])
    log = by_post(await actions(client, admin, account["id"]))
    assert log[first.id]["reason"] == "scope: not a follower" and log[second.id]["status"] == "done"


async def test_filters_round_trip_and_each_skip_names_its_filter(client, admin, pipeline, account):
    filters = {"languages": ["en"], "exclude_replies": True, "min_followers": 50,
               "banned_words": ["give away", "crypto"], "max_hashtags": 3, "duplicate_window_minutes": 60}
    put = await client.put(f"{API}/accounts/{account['id']}/filters", json=filters, headers=admin)
    assert put.status_code == 200, put.text
    got = (await client.get(f"{API}/accounts/{account['id']}/filters", headers=admin)).json()
    assert got["languages"] == ["en"] and got["banned_words"] == ["give away", "crypto"]
    await make_rule(client, admin, account["id"], "espresso")
    w = world()
    w.add_author("tiny", followers_count=3)
    w.add_author("ghost", followers_count=None)
    posts = {
        "ok": w.publish("alice", "espresso time", lang="en"),
        "lang": w.publish("alice", "espresso ora", lang="it"),
        "reply": w.publish("alice", "espresso yes", lang="en", is_reply=True),
        "small": w.publish("tiny", "espresso please", lang="en"),
        "unknown": w.publish("ghost", "espresso now", lang="en"),
        "banned": w.publish("alice", "Espresso GIVE-AWAY today", lang="en"),
        "tags": w.publish("alice", "espresso #a #b #c #d", lang="en"),
        "dup": w.publish("bob", "Espresso time!", lang="en"),
    }
    await _run(client, admin, pipeline, list(posts.values()))
    log = by_post(await actions(client, admin, account["id"]))
    reasons = {k: log[p.id]["reason"] for k, p in posts.items()}
    assert log[posts["ok"].id]["status"] == "done"
    assert reasons["lang"] == "filter: language it not in en"
    assert reasons["reply"] == "filter: replies excluded"
    assert reasons["small"] == "filter: min_followers 50: author has 3"
    assert reasons["unknown"] == "filter: min_followers 50: author's follower count unknown"
    assert reasons["banned"] == "filter: banned word 'give away'"
    assert reasons["tags"] == "filter: max_hashtags 3: post has 4"
    assert reasons["dup"].startswith("filter: duplicate text")


async def test_bad_filters_are_refused_and_change_nothing(client, admin, account):
    await client.put(f"{API}/accounts/{account['id']}/filters", json={"languages": ["en"]}, headers=admin)
    for bad in ({"languages": ["english!"]}, {"min_followers": -1}, {"colour": "red"}):
        response = await client.put(f"{API}/accounts/{account['id']}/filters", json=bad, headers=admin)
        assert response.status_code == 422
    assert (await client.get(f"{API}/accounts/{account['id']}/filters", headers=admin)).json()["languages"] == ["en"]


async def test_block_stops_waiting_posts_and_undo_existing_removes_earlier_reposts(client, admin, pipeline, account):
    await make_rule(client, admin, account["id"], "#coffee")
    w = world()
    early = w.publish("bob", "first #coffee")
    await _run(client, admin, pipeline, [early])
    assert ("coffeeclub", early.id) in w.reposts
    # A post waits in the queue (quiet limit): then the block arrives.
    await client.patch(f"{API}/accounts/{account['id']}", json={"limits": {"min_interval_seconds": 3600}},
                       headers=admin)
    waiting = w.publish("bob", "second #coffee")
    await _run(client, admin, pipeline, [waiting])
    assert by_post(await actions(client, admin, account["id"]))[waiting.id]["status"] == "queued"

    response = await client.post(f"{API}/accounts/{account['id']}/blocks",
                                 json={"author": "@Bob", "reason": "competitor", "undo_existing": True}, headers=admin)
    assert response.status_code == 201, response.text
    assert response.json()["undo_queued"] == 1 and response.json()["unqueued"] == 1
    await pipeline.tick(poll=False)

    log = by_post(await actions(client, admin, account["id"]))
    assert log[waiting.id]["status"] == "skipped" and log[waiting.id]["reason"] == "blocked: competitor"
    assert log[early.id]["status"] == "undone"
    assert ("coffeeclub", early.id) not in w.reposts
    later = w.publish("bob", "third #coffee")
    await _run(client, admin, pipeline, [later])
    assert by_post(await actions(client, admin, account["id"]))[later.id]["reason"] == "blocked: competitor"
    again = await client.post(f"{API}/accounts/{account['id']}/blocks", json={"author": "bob"}, headers=admin)
    assert again.status_code == 409
    assert (await client.delete(f"{API}/accounts/{account['id']}/blocks/bob", headers=admin)).status_code == 204


async def test_block_added_while_queued_is_checked_again_before_sending(client, admin, pipeline, account, runtime):
    """The race: the block lands between the decision and the send, with no eager unqueue to help."""
    await make_rule(client, admin, account["id"], "#coffee")
    post = world().publish("bob", "hi #coffee")
    await ingest(client, admin, [post])
    await pipeline.match_all()
    from app.models import Block
    async with runtime.sessions() as session, session.begin():
        session.add(Block(account_id=account["id"], author=world().authors["bob"].id, handle="bob", reason="spam",
                          created_by="test"))
    await pipeline.tick(poll=False)
    [action] = await actions(client, admin, account["id"])
    assert action["status"] == "skipped" and action["reason"] == "blocked: spam"
    assert ("coffeeclub", post.id) not in world().reposts


async def test_global_block_applies_to_every_account(client, admin, pipeline, account):
    other = await make_account(client, admin, handle="teaclub")
    for acc in (account, other):
        await make_rule(client, admin, acc["id"], "#coffee")
    blocked = await client.post(f"{API}/blocks", json={"author": "bob", "reason": "spam"}, headers=admin)
    assert blocked.status_code == 201
    post = world().publish("bob", "buy #coffee")
    await _run(client, admin, pipeline, [post])
    for acc in (account, other):
        assert (await actions(client, admin, acc["id"]))[0]["reason"] == "blocked: spam"
    assert (await client.get(f"{API}/blocks", headers=admin)).json()["total"] == 1


async def test_opt_outs_nobot_list_and_authors_who_block_the_account(client, admin, pipeline, account):
    await make_rule(client, admin, account["id"], "#coffee")
    w = world()
    w.add_author("shy", followers_count=10).bio = "Please no boosts #NoBot"
    w.add_author("blocker", followers_count=10)
    w.blocks.add(("blocker", "coffeeclub"))
    listed = await client.post(f"{API}/accounts/{account['id']}/authors/optout", json={"author": "carol"},
                               headers=admin)
    assert listed.status_code == 201
    posts = {h: w.publish(h, f"{h} #coffee") for h in ("shy", "blocker", "carol", "alice")}
    await pipeline.tick()  # polls too: the account's blocked-by set is fetched with the first poll
    await _run(client, admin, pipeline, list(posts.values()))
    log = by_post(await actions(client, admin, account["id"]))
    assert log[posts["shy"].id]["reason"] == "opted out: #nobot in the author's bio"
    assert log[posts["carol"].id]["reason"] == "opted out: author is on the account's opt-out list"
    assert log[posts["blocker"].id]["reason"] == "opted out: author blocks the account"
    assert log[posts["alice"].id]["status"] == "done"


async def test_a_block_cannot_be_got_round_by_someone_reposting_the_author(client, admin, pipeline, account):
    """Found trying reposter on the AT Protocol dev network: a repost by a consenting member of a
    blocked author's post must not go out, and the log names the original author."""
    await make_rule(client, admin, account["id"], "#coffee")
    w = world()
    original = w.publish("bob", "buy my beans #coffee")
    await client.post(f"{API}/accounts/{account['id']}/blocks", json={"author": "bob", "reason": "spam"}, headers=admin)
    shy = w.add_author("shy", followers_count=10)
    shy.bio = "#nobot please"
    boosts = [w.publish("alice", original.text, is_repost=True, reposted_author=w.authors["bob"].model_copy()),
              w.publish("alice", "quiet #coffee", is_repost=True, reposted_author=shy.model_copy()),
              w.publish("alice", "fine #coffee", is_repost=True, reposted_author=w.authors["carol"].model_copy())]
    await _run(client, admin, pipeline, boosts)
    log = by_post(await actions(client, admin, account["id"]))
    assert log[boosts[0].id]["reason"] == "blocked: spam" and log[boosts[0].id]["author_handle"] == "bob"
    assert log[boosts[1].id]["reason"] == "opted out: #nobot in the author's bio"
    assert log[boosts[2].id]["status"] == "done" and log[boosts[2].id]["author_handle"] == "carol"
