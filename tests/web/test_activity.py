"""The activity log page over HTTP: filters, the live rows fragment, undo of one or many, permissions."""

from __future__ import annotations

import re

import pytest

from app.auth.caller import Role
from tests.api.helpers import API, actions, by_post, ingest, make_account, make_rule, world


@pytest.fixture
async def account(client, admin):
    world().add_author("alice", display_name="Alice Barista")
    world().add_author("bob")
    return await make_account(client, admin)


async def seed_log(client, admin, pipeline, account: dict) -> dict[str, dict]:
    """Two reposts (alice by 'Coffee', bob by 'Tea') and one post of bob waiting for review; by text."""
    await make_rule(client, admin, account["id"], "#coffee", name="Coffee")
    await make_rule(client, admin, account["id"], "#tea", name="Tea")
    await make_rule(client, admin, account["id"], "#matcha", name="Matcha", review=True)
    w = world()
    posts = [w.publish("alice", "flat white #coffee"), w.publish("bob", "sencha #tea"),
             w.publish("bob", "whisk #matcha")]
    await ingest(client, admin, posts)
    await pipeline.tick(poll=False)
    found = by_post(await actions(client, admin, account["id"]))
    return {p.text.split()[0]: found[p.id] for p in posts}


def row_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="row-(\d+)"', html)]


async def test_the_log_shows_every_action_newest_first(client, admin, pipeline, account, web):
    log = await seed_log(client, admin, pipeline, account)
    moderator = await web(Role.moderator, [account["id"]])
    shown = await moderator.get(f"/accounts/{account['id']}/activity")
    assert shown.status_code == 200
    assert row_ids(shown.text) == sorted((a["id"] for a in log.values()), reverse=True)
    assert "flat white #coffee" in shown.text and "Alice Barista" in shown.text and "@bob" in shown.text
    assert '<span class="badge ok">done</span>' in shown.text and "waits for review" in shown.text
    assert 'hx-trigger="every 3s"' in shown.text and "Undo selected" in shown.text


async def test_filters_narrow_the_log(client, admin, pipeline, account, web):
    log = await seed_log(client, admin, pipeline, account)
    moderator = await web(Role.moderator, [account["id"]])
    base = f"/accounts/{account['id']}/activity"
    by_status = await moderator.get(base, params={"status": "review"})
    assert row_ids(by_status.text) == [log["whisk"]["id"]]
    by_author = await moderator.get(base, params={"author": "@BO"})
    assert row_ids(by_author.text) == [log["whisk"]["id"], log["sencha"]["id"]]
    by_rule = await moderator.get(base, params={"rule": log["flat"]["rule_id"]})
    assert row_ids(by_rule.text) == [log["flat"]["id"]]
    both = await moderator.get(base, params={"author": "bob", "status": "done", "period": "1h"})
    assert row_ids(both.text) == [log["sencha"]["id"]]
    assert "status=done" in both.text and "period=1h" in both.text  # the polling keeps the filters
    nobody = await moderator.get(base, params={"author": "carol"})
    assert row_ids(nobody.text) == [] and "No actions match these filters yet." in nobody.text
    wildcard = await moderator.get(base, params={"author": "%"})
    assert row_ids(wildcard.text) == []  # a LIKE wildcard is a plain character


async def test_a_bad_filter_is_a_422_named_by_its_field(client, admin, pipeline, account, web):
    await seed_log(client, admin, pipeline, account)
    moderator = await web(Role.moderator, [account["id"]])
    base = f"/accounts/{account['id']}/activity"
    for params, said in (({"status": "lost"}, "is not a status"), ({"rule": "999999"}, "not a rule of this account"),
                         ({"period": "forever"}, "choose one of the periods"), ({"author": "a" * 300}, "at most 255")):
        shown = await moderator.get(base, params=params)
        assert shown.status_code == 422 and said in shown.text, params
        assert row_ids(shown.text) == []
    rows = await moderator.get(f"{base}/rows", params={"status": "lost"})
    assert rows.status_code == 422 and "is not a status" in rows.text
    assert (await moderator.get(f"{base}/rows", params={"seen": "x"})).status_code == 422
    assert (await moderator.get(f"{base}/rows", params={"seen": "-1"})).status_code == 422


async def test_the_rows_fragment_returns_new_actions_marked_and_announced(client, admin, pipeline, account, web):
    log = await seed_log(client, admin, pipeline, account)
    moderator = await web(Role.moderator, [account["id"]])
    top = max(a["id"] for a in log.values())
    quiet = await moderator.get(f"/accounts/{account['id']}/activity/rows", params={"seen": top})
    assert quiet.status_code == 200 and "<html" not in quiet.text and 'class="new"' not in quiet.text
    assert "hx-swap-oob" not in quiet.text
    fresh = world().publish("alice", "cortado #coffee")
    await ingest(client, admin, [fresh])
    await pipeline.tick(poll=False)
    [new] = [a for a in await actions(client, admin, account["id"]) if a["post_id"] == fresh.id]
    rows = await moderator.get(f"/accounts/{account['id']}/activity/rows", params={"seen": top, "rule":
                                                                                    log["flat"]["rule_id"]})
    assert row_ids(rows.text) == [new["id"], log["flat"]["id"]]  # new at the top, the filter kept
    assert f'<tr id="row-{new["id"]}" class="new">' in rows.text and "cortado #coffee" in rows.text
    assert "1 new action at the top of the log." in rows.text
    assert f"seen={new['id']}" in rows.text  # the next poll marks only what is newer still


async def test_undo_one_repost(client, admin, pipeline, account, web):
    log = await seed_log(client, admin, pipeline, account)
    moderator = await web(Role.moderator, [account["id"]], name="mo")
    base = f"/accounts/{account['id']}/activity"
    answer = await moderator.post(f"{base}/undo", {"ids": log["flat"]["id"], "author": "alice"})
    assert answer.status_code == 303 and answer.headers["location"] == f"{base}?author=alice"  # the filter kept
    shown = await moderator.get(answer.headers["location"])
    assert f"Undo requested for action {log['flat']['id']}" in shown.text and "undo asked" in shown.text
    assert "undo requested</span>" in shown.text or ">undoing</span>" in shown.text  # the status says so
    assert f'id="undo-{log["flat"]["id"]}"' not in shown.text  # nothing left to undo
    undoing = (await client.get(f"{API}/actions/{log['flat']['id']}", headers=admin)).json()
    assert undoing["undo_requested_at"] and undoing["undone_at"] is None


async def test_undo_selected_requests_undo_of_each(client, admin, pipeline, account, web):
    log = await seed_log(client, admin, pipeline, account)
    moderator = await web(Role.moderator, [account["id"]])
    ids = [log["flat"]["id"], log["sencha"]["id"]]
    answer = await moderator.post(f"/accounts/{account['id']}/activity/undo", {"ids": ids})
    assert answer.status_code == 303
    assert "Undo requested for 2 actions" in (await moderator.get(answer.headers["location"])).text
    for action_id in ids:
        assert (await client.get(f"{API}/actions/{action_id}", headers=admin)).json()["undo_requested_at"]
    await pipeline.tick(poll=False)
    assert {a["status"] for a in await actions(client, admin, account["id"], status="undone")} == {"undone"}
    assert not world().reposts


async def test_undo_of_something_not_sent_changes_nothing(client, admin, pipeline, account, web):
    log = await seed_log(client, admin, pipeline, account)
    moderator = await web(Role.moderator, [account["id"]])
    base = f"/accounts/{account['id']}/activity"
    answer = await moderator.post(f"{base}/undo", {"ids": [log["flat"]["id"], log["whisk"]["id"]]})
    assert answer.status_code == 409 and "only a done action" in answer.text
    assert not (await client.get(f"{API}/actions/{log['flat']['id']}", headers=admin)).json()["undo_requested_at"]
    assert (await moderator.post(f"{base}/undo", {})).status_code == 422
    assert (await moderator.post(f"{base}/undo", {"ids": "999999"})).status_code == 404
    assert (await moderator.http.post(f"{base}/undo", data={"ids": log["flat"]["id"]})).status_code == 403  # no CSRF


async def test_another_accounts_moderator_gets_404(client, admin, pipeline, account, web):
    log = await seed_log(client, admin, pipeline, account)
    other = await make_account(client, admin, handle="teaclub")
    stranger = await web(Role.moderator, [other["id"]])
    assert (await stranger.get(f"/accounts/{account['id']}/activity")).status_code == 404
    assert (await stranger.get(f"/accounts/{account['id']}/activity/rows")).status_code == 404
    assert (await stranger.post(f"/accounts/{account['id']}/activity/undo", {"ids": log["flat"]["id"]})).status_code \
        == 404
    assert (await stranger.post(f"/accounts/{other['id']}/activity/undo", {"ids": log["flat"]["id"]})).status_code \
        == 404
    assert not (await client.get(f"{API}/actions/{log['flat']['id']}", headers=admin)).json()["undo_requested_at"]


async def test_the_log_shows_a_rules_timing_and_promotion_window(client, admin, pipeline, account, web):
    await make_rule(client, admin, account["id"], "#launch", name="Launch", undo_after_hours=24)
    await make_rule(client, admin, account["id"], "#later", name="Later", timing={"mode": "delay", "minutes": 60})
    await ingest(client, admin, [world().publish("alice", "go #launch"), world().publish("bob", "soon #later")])
    await pipeline.tick(poll=False)
    shown = await (await web(Role.moderator, [account["id"]])).get(f"/accounts/{account['id']}/activity")
    assert "waits for rule timing, expected" in shown.text
    assert "when its rule's promotion window ends" in shown.text
