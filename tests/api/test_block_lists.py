"""Shared block lists (issue 13 §4): an account blocks everyone on a Bluesky moderation list, or
everyone another account blocks, while they are on it. Through the API and the pipeline, on both
databases; Bluesky is the contract suite's fake server (getList in the lexicon's shape)."""

from datetime import timedelta

import pytest

from app.db.base import utcnow
from app.models.token import Role
from app.pipeline import block_lists
from tests.api.helpers import API, actions, by_post, ingest, make_account, make_rule, world
from tests.api.test_real_platforms import _connect, _harness
from tests.conftest import make_token
from tests.platforms.harness_bluesky import did_for, facets_for, handle_for


@pytest.fixture
def bluesky(runtime, monkeypatch):
    return _harness("bluesky", runtime, monkeypatch)


def _post(harness, name: str, text: str) -> str:
    return harness.server.publish(name, {"text": text, "facets": facets_for(text)})


def _lists(account_id: int) -> str:
    return f"{API}/accounts/{account_id}/block-lists"


async def _later(runtime) -> None:
    """The block-list job, as it runs once the refresh interval has passed."""
    later = utcnow() + timedelta(seconds=runtime.settings.block_list_refresh_seconds + 1)
    await block_lists.refresh_due(runtime, now=later)


async def test_a_bluesky_modlist_blocks_its_members_while_they_are_on_it(client, admin, pipeline, runtime, bluesky):
    server = bluesky.server
    account = await _connect(client, admin, bluesky, allow_without_consent=True, page_size=50)
    await make_rule(client, admin, account["id"], "#coffee")
    server.add_profile("mods")
    spam = server.add_list("mods", "3kspam222", "Spammers", [did_for("alice"), did_for("bob"), did_for("dave")])
    other = server.add_list("mods", "3kother22", "Others", [did_for("dave")])
    curated = server.add_list("mods", "3kcurate2", "Friends", [did_for("carol")], purpose="curatelist")

    # a curation list is not a block list: refused, nothing stored
    refused = await client.post(_lists(account["id"]), json={"list": curated}, headers=admin)
    assert refused.status_code == 422 and "not a moderation list" in refused.json()["detail"], refused.text
    # the list's bsky.app address, its owner named by handle: stored by DID
    made = await client.post(_lists(account["id"]), headers=admin,
                             json={"list": f"https://bsky.app/profile/{handle_for('mods')}/lists/3kspam222"})
    assert made.status_code == 201, made.text
    sub = made.json()
    assert (sub["source"], sub["name"], sub["member_count"], sub["added"], sub["error"]) == (spam, "Spammers", 3, 3,
                                                                                           None)
    again = await client.post(_lists(account["id"]), json={"list": spam}, headers=admin)
    assert again.status_code == 409
    assert (await client.post(_lists(account["id"]), json={"list": other}, headers=admin)).status_code == 201
    # bob is blocked by hand as well
    bob = await client.post(f"{API}/accounts/{account['id']}/blocks", json={"author": "bob.bsky.social",
                                                                              "reason": "spam"}, headers=admin)
    assert bob.status_code == 201
    members = await client.get(f"{_lists(account['id'])}/{sub['id']}/members", headers=admin)
    assert [m["author"] for m in members.json()["items"]] == sorted(did_for(n) for n in ("alice", "bob", "dave"))

    first = {name: _post(bluesky, name, f"{name} likes #coffee") for name in ("alice", "bob", "carol", "dave")}
    await pipeline.tick()
    log = by_post(await actions(client, admin, account["id"]))
    assert log[first["alice"]]["reason"] == f'blocked: on block list "Spammers" ({spam})'
    assert log[first["bob"]]["reason"] == "blocked: spam"  # a block of one's own gives its reason
    assert log[first["dave"]]["status"] == "skipped" and log[first["carol"]]["status"] == "done"

    # the list drops alice, bob and dave; dave is still on the other list, bob still blocked by hand
    server.lists[spam]["members"] = []
    await _later(runtime)
    [shown, _] = (await client.get(_lists(account["id"]), headers=admin)).json()["items"]
    assert (shown["member_count"], shown["error"]) == (0, None)
    second = {name: _post(bluesky, name, f"{name} again #coffee") for name in ("alice", "bob", "dave")}
    await pipeline.tick()
    log = by_post(await actions(client, admin, account["id"]))
    assert log[second["alice"]]["status"] == "done", log[second["alice"]]
    assert log[second["bob"]]["reason"] == "blocked: spam"
    assert log[second["dave"]]["reason"] == 'blocked: on block list "Others" (' + other + ")"

    # a read that fails keeps the members and says why on the subscription
    server.lists[other]["members"] = []
    bluesky.fail_next(500, times=20)
    failed = await client.post(f"{_lists(account['id'])}/{shown['id'] + 1}/refresh", headers=admin)
    assert failed.status_code == 200, failed.text
    assert failed.json()["member_count"] == 1 and "reading the list failed" in failed.json()["error"]
    server.failures.clear()
    assert (await client.get(f"{_lists(account['id'])}/{shown['id'] + 1}", headers=admin)).json()["error"]
    del server.lists[other]  # deleted on Bluesky: its members stay blocked, and the subscription says so
    await _later(runtime)
    gone = (await client.get(f"{_lists(account['id'])}/{shown['id'] + 1}", headers=admin)).json()
    assert gone["member_count"] == 1 and "no list" in gone["error"]
    third = _post(bluesky, "dave", "still here #coffee")
    await pipeline.tick()
    assert by_post(await actions(client, admin, account["id"]))[third]["status"] == "skipped"
    # unsubscribed: dave is not blocked any more
    assert (await client.delete(f"{_lists(account['id'])}/{shown['id'] + 1}", headers=admin)).status_code == 204
    fourth = _post(bluesky, "dave", "free at last #coffee")
    await pipeline.tick()
    assert by_post(await actions(client, admin, account["id"]))[fourth]["status"] == "done"
    bluesky.validate_requests()


async def test_an_account_can_follow_another_accounts_blocks(client, admin, pipeline, runtime):
    w = world()
    for handle in ("bob", "carol"):
        w.add_author(handle, followers_count=100)
    mine = await make_account(client, admin, handle="coffeeclub")
    source = await make_account(client, admin, handle="teaclub")
    stranger = await make_account(client, admin, handle="juiceclub")
    await make_rule(client, admin, mine["id"], "#coffee")
    moderator = await make_token(runtime, Role.moderator, [mine["id"], source["id"]])
    # a caller who cannot see the source account learns nothing of it
    only_mine = await make_token(runtime, Role.moderator, [mine["id"]])
    hidden = await client.post(_lists(mine["id"]), json={"source_account_id": source["id"]}, headers=only_mine)
    assert hidden.status_code == 404
    assert (await client.post(f"{API}/accounts/{source['id']}/blocks", json={"author": "bob", "reason": "troll"},
                              headers=admin)).status_code == 201
    made = await client.post(_lists(mine["id"]), json={"source_account_id": source["id"], "undo_existing": True},
                             headers=moderator)
    assert made.status_code == 201, made.text
    assert (made.json()["kind"], made.json()["name"], made.json()["member_count"]) == ("reposter_account",
                                                                                      "teaclub", 1)
    # another account's subscription is not this account's
    other_sub = f"{API}/accounts/{stranger['id']}/block-lists/{made.json()['id']}"
    assert (await client.get(other_sub, headers=admin)).status_code == 404
    assert (await client.delete(other_sub, headers=admin)).status_code == 404

    posts = [w.publish("bob", "bob #coffee"), w.publish("carol", "carol #coffee")]
    await ingest(client, admin, posts)
    await pipeline.tick(poll=False)
    log = by_post(await actions(client, admin, mine["id"]))
    assert log[posts[0].id]["reason"] == f"blocked: on the blocks of account teaclub (#{source['id']})"
    assert log[posts[1].id]["status"] == "done"
    # the source blocks carol: at the next refresh her earlier repost is undone (undo_existing)
    assert (await client.post(f"{API}/accounts/{source['id']}/blocks", json={"author": "carol"},
                              headers=admin)).status_code == 201
    assert (await client.delete(f"{API}/accounts/{source['id']}/blocks/bob", headers=admin)).status_code == 204
    await _later(runtime)
    await pipeline.tick(poll=False)
    log = by_post(await actions(client, admin, mine["id"]))
    assert log[posts[1].id]["status"] == "undone"
    later = [w.publish("bob", "bob again #coffee"), w.publish("carol", "carol again #coffee")]
    await ingest(client, admin, later)
    await pipeline.tick(poll=False)
    log = by_post(await actions(client, admin, mine["id"]))
    assert log[later[0].id]["status"] == "done" and log[later[1].id]["status"] == "skipped"
    events = (await client.get(f"{API}/audit", params={"action": "block_list.refresh"}, headers=admin)).json()
    assert any(e["detail"]["removed"] == 1 and e["detail"]["undo_queued"] == 1 for e in events["items"]), events
    # the source account is deleted: its blocks at the last refresh stay, and the subscription says why
    assert (await client.delete(f"{API}/accounts/{source['id']}", headers=admin)).status_code == 204
    kept = await client.post(f"{_lists(mine['id'])}/{made.json()['id']}/refresh", headers=admin)
    assert kept.json()["member_count"] == 1 and "was deleted" in kept.json()["error"], kept.text


@pytest.mark.parametrize("body, status, says", [
    ({"list": "not a list"}, 422, "at-uri"),
    ({"list": "at://did:plc:abc/app.bsky.feed.post/3k2"}, 422, "not lists"),
    ({"list": "at://did:plc:abc/app.bsky.graph.list/3k\x002"}, 422, "NUL"),
    ({"list": "at://did:plc:abc/app.bsky.graph.list/3k2", "source_account_id": 1}, 422, "either"),
    ({}, 422, "either"),
    ({"source_account_id": 2**31}, 422, "less than or equal"),
    ({"source_account_id": 999}, 404, "not found"),
    ({"source_account_id": 1}, 422, "its own"),
    ({"list": "at://did:plc:abc/app.bsky.graph.list/3k2"}, 422, "Bluesky accounts"),  # a mock account
])
async def test_bad_block_list_input_is_a_clear_4xx_and_changes_nothing(client, admin, body, status, says):
    account = await make_account(client, admin)
    response = await client.post(_lists(account["id"]), json=body, headers=admin)
    assert response.status_code == status and says in response.text, response.text
    assert (await client.get(_lists(account["id"]), headers=admin)).json()["total"] == 0
    for path in (f"{_lists(account['id'])}/{2**31}", f"{_lists(account['id'])}/7"):
        assert (await client.get(path, headers=admin)).status_code in (404, 422)
