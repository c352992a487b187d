"""Blocking an instance or domain from the dashboard, in two steps as a person's block, and a block
list going out as CSV and in by pasting it; refused input changes nothing."""

from __future__ import annotations

from app.auth.caller import Role
from tests.api.helpers import API, actions, ingest, make_account, make_rule, world


async def _blocks(client, admin, account_id: int) -> list[dict]:
    return (await client.get(f"{API}/accounts/{account_id}/blocks", headers=admin)).json()["items"]


async def test_an_instance_is_blocked_in_two_steps_and_the_list_goes_to_another_account(client, admin, pipeline, web):
    w = world()
    for handle in ("shill@spam.example", "bot@sub.spam.example", "alice"):
        w.add_author(handle)
    made = await make_account(client, admin)
    await make_rule(client, admin, made["id"], "#coffee")
    await ingest(client, admin, [w.publish("shill@spam.example", "buy #coffee"),
                                 w.publish("bot@sub.spam.example", "#coffee deals"), w.publish("alice", "#coffee")])
    await pipeline.tick(poll=False)
    moderator = await web(Role.moderator, [made["id"]])
    people = f"/accounts/{made['id']}/people"
    assert "Block an instance or domain" in (await moderator.get(people)).text

    seen = await moderator.post(f"{people}/check-domain", {"domain": " *@Spam.Example ", "why": "spam farm"})
    assert seen.status_code == 200, seen.text
    assert "2 earlier reposts" in seen.text and 'name="author" value="*@spam.example"' in seen.text
    assert await _blocks(client, admin, made["id"]) == []  # looking changes nothing
    for bad, says in (("*@-bad-", "is not a domain"), ("spam\x00.example", "NUL"), ("", "missing")):
        refused = await moderator.post(f"{people}/check-domain", {"domain": bad})
        assert refused.status_code == 422 and says in refused.text, (bad, refused.text[:300])

    done = await moderator.post(f"{people}/add", {"kind": "block", "author": "*@spam.example", "reason": "spam farm",
                                                  "undo_existing": "on"})
    assert done.status_code == 303 and done.headers["location"] == people
    shown = await moderator.get(people)
    assert "*@spam.example is blocked. Undo requested for 2 earlier reposts." in shown.text
    assert "every author of the domain" in shown.text
    undone = {a["author_handle"] for a in await actions(client, admin, made["id"]) if a["undo_requested_at"]}
    assert undone == {"shill@spam.example", "bot@sub.spam.example"}

    exported = await moderator.get(f"{people}/export.csv")
    assert exported.status_code == 200 and exported.text == "block,reason\n*@spam.example,spam farm\n"
    other = await make_account(client, admin, "other")
    theirs = await web(Role.moderator, [other["id"]])
    into = f"/accounts/{other['id']}/people/import"
    assert (await theirs.post(f"{people}/import", {"csv": exported.text})).status_code == 404
    refused = await theirs.post(into, {"csv": exported.text + "*@-bad-,x\n"})
    assert refused.status_code == 422 and "line 3:" in refused.text and await _blocks(client, admin, other["id"]) == []
    imported = await theirs.post(into, {"csv": exported.text})
    assert imported.status_code == 303
    assert "Imported: 1 added, 0 already blocked" in (await theirs.get(imported.headers["location"])).text
    [block] = await _blocks(client, admin, other["id"])
    assert (block["kind"], block["domain"], block["reason"]) == ("domain", "spam.example", "spam farm")
