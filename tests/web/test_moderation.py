"""Blocks & people, the author page and the audit log over HTTP: two steps to block (who it is and
what it will undo, then confirm), the same permissions as the API, and bad input refused."""

from __future__ import annotations

import html
import re

import pytest

from app.audit import record
from app.auth.caller import Role
from app.db.session import transaction
from app.platforms.http import RetryPolicy
from tests.api.helpers import API, actions, ingest, make_account, make_rule, world

AVATAR = "/static/web/icon.svg"


async def coffee_account(client, admin, pipeline) -> dict:
    """A mock account that reposted two `#coffee` posts of alice's and one of bob's."""
    world().add_author("alice", display_name="Alice Liddell", avatar_url=AVATAR)
    made = await make_account(client, admin)
    await make_rule(client, admin, made["id"], "#coffee", name="Coffee talk")
    w = world()
    posts = [w.publish("alice", "first #coffee of the day"), w.publish("alice", "flat white #coffee"),
             w.publish("bob", "espresso #coffee")]
    await ingest(client, admin, posts)
    await pipeline.tick(poll=False)
    assert [a["status"] for a in await actions(client, admin, made["id"])] == ["done"] * 3
    return made


@pytest.fixture
async def account(client, admin, pipeline):
    return await coffee_account(client, admin, pipeline)


@pytest.fixture
async def moderator(web, account):
    return await web(Role.moderator, [account["id"]])


async def _blocks(client, admin, account_id: int) -> list[dict]:
    return (await client.get(f"{API}/accounts/{account_id}/blocks", headers=admin)).json()["items"]


def _alice() -> str:
    return world().authors["alice"].id


async def test_looking_someone_up_shows_who_they_are_and_what_a_block_would_undo(client, admin, account, moderator):
    people = f"/accounts/{account['id']}/people"
    assert (await moderator.get(people)).status_code == 200
    seen = await moderator.post(f"{people}/check", {"kind": "block", "author": " @Alice ", "reason": "spam"})
    assert seen.status_code == 200, seen.text
    assert "Alice Liddell" in seen.text and f'src="{AVATAR}"' in seen.text and "@alice" in seen.text
    assert "will undo 2 reposts" in seen.text and f'name="author" value="{_alice()}"' in seen.text
    # looking up changes nothing: the block is made only when confirmed
    assert await _blocks(client, admin, account["id"]) == []
    audit = (await client.get(f"{API}/audit", headers=admin)).json()["items"]
    assert "block.create" not in {e["action"] for e in audit}


async def test_a_profile_address_names_the_person_too(account, moderator):
    seen = await moderator.post(f"/accounts/{account['id']}/people/check",
                                {"kind": "block", "author": "mock://default/@alice/12"})
    assert seen.status_code == 200 and "Alice Liddell" in seen.text


async def test_confirming_blocks_the_person_and_asks_to_undo_both_reposts(client, admin, account, moderator):
    answer = await moderator.post(f"/accounts/{account['id']}/people/add",
                                  {"kind": "block", "author": _alice(), "reason": "spam", "undo_existing": "on"})
    assert answer.status_code == 303 and answer.headers["location"] == f"/accounts/{account['id']}/authors/{_alice()}"
    [block] = await _blocks(client, admin, account["id"])
    assert (block["author_id"], block["handle"], block["reason"], block["undo_existing"]) == (_alice(), "alice",
                                                                                                 "spam", True)
    assert "moderator" in block["created_by"]
    log = await actions(client, admin, account["id"])
    alice = [a for a in log if a["author_handle"] == "alice"]
    assert len(alice) == 2 and all(a["undo_requested_at"] for a in alice)
    assert all(not a["undo_requested_at"] for a in log if a["author_handle"] == "bob")
    shown = await moderator.get(answer.headers["location"])
    assert "alice is blocked. Undo requested for 2 earlier reposts." in shown.text
    assert shown.text.count("undo requested") == 2


async def test_confirming_without_undo_leaves_the_reposts(client, admin, account, moderator):
    answer = await moderator.post(f"/accounts/{account['id']}/people/add", {"kind": "block", "author": _alice()})
    assert answer.status_code == 303
    assert [b["undo_existing"] for b in await _blocks(client, admin, account["id"])] == [False]
    assert not any(a["undo_requested_at"] for a in await actions(client, admin, account["id"]))
    again = await moderator.post(f"/accounts/{account['id']}/people/check", {"kind": "block", "author": "alice"})
    assert "already blocked" in again.text and "/people/add" not in again.text
    twice = await moderator.post(f"/accounts/{account['id']}/people/add", {"kind": "block", "author": _alice()})
    assert twice.status_code == 409 and "already blocked" in twice.text


async def test_an_unknown_or_unusable_name_is_a_clear_422_and_nothing_changes(client, admin, account, moderator):
    check = f"/accounts/{account['id']}/people/check"
    unknown = await moderator.post(check, {"kind": "block", "author": "@nobody"})
    assert unknown.status_code == 422 and "nobody on mock is called" in unknown.text
    assert 'aria-invalid="true"' in unknown.text and 'value="@nobody"' in unknown.text  # the form, kept, marked
    for fields, says in (({"kind": "block", "author": ""}, "Type who"),
                         ({"kind": "block", "author": "two words"}, "without spaces"),
                         ({"kind": "ban", "author": "alice"}, "is not one of block, optout, consent"),
                         ({"kind": "block", "author": "al\x00ice"}, "NUL"),
                         ({"kind": "block", "author": "alice", "reason": "x" * 1001}, "at most 1000")):
        answer = await moderator.post(check, fields)
        assert answer.status_code == 422 and says in answer.text, (fields, answer.text[:300])
    add = await moderator.post(f"/accounts/{account['id']}/people/add", {"kind": "block", "author": "@nobody"})
    assert add.status_code == 422 and "nobody on mock is called" in add.text
    assert await _blocks(client, admin, account["id"]) == []


async def test_forms_without_the_csrf_token_are_refused(client, admin, account, moderator):
    answer = await moderator.http.post(f"/accounts/{account['id']}/people/add", data={"kind": "block",
                                                                                       "author": _alice()})
    assert answer.status_code == 403 and "CSRF" in answer.text
    assert await _blocks(client, admin, account["id"]) == []


async def test_removing_a_block(client, admin, account, moderator):
    await moderator.post(f"/accounts/{account['id']}/people/add", {"kind": "block", "author": _alice()})
    listed = await moderator.get(f"/accounts/{account['id']}/people")
    assert "Unblock" in listed.text and f"/accounts/{account['id']}/authors/{_alice()}" in listed.text
    remove = f"/accounts/{account['id']}/people/remove"
    answer = await moderator.post(remove, {"kind": "block", "author": _alice(), "handle": "alice"})
    assert answer.status_code == 303 and answer.headers["location"] == f"/accounts/{account['id']}/people"
    assert await _blocks(client, admin, account["id"]) == []
    assert (await moderator.post(remove, {"kind": "block", "author": _alice()})).status_code == 404


async def test_opt_out_and_consent_take_the_same_two_steps(client, admin, account, moderator):
    people = f"/accounts/{account['id']}/people"
    seen = await moderator.post(f"{people}/check", {"kind": "optout", "author": "alice"})
    assert seen.status_code == 200 and "Opt alice out" in seen.text and "will undo 2 reposts" in seen.text
    consent = await moderator.post(f"{people}/check", {"kind": "consent", "author": "bob"})
    assert "Record consent of bob" in consent.text and "undo" not in consent.text.split("<main", 1)[1].lower()
    for kind, who in (("optout", _alice()), ("consent", world().authors["bob"].id)):
        assert (await moderator.post(f"{people}/add", {"kind": kind, "author": who})).status_code == 303
    for kind in ("optout", "consent"):
        [entry] = (await client.get(f"{API}/accounts/{account['id']}/authors/{kind}", headers=admin)).json()["items"]
        assert entry["pending"] is False
    assert not any(a["undo_requested_at"] for a in await actions(client, admin, account["id"]))
    answer = await moderator.post(f"{people}/remove", {"kind": "optout", "author": _alice(), "back": "author"})
    assert answer.headers["location"] == f"/accounts/{account['id']}/authors/{_alice()}"
    assert (await client.get(f"{API}/accounts/{account['id']}/authors/optout", headers=admin)).json()["total"] == 0


async def test_the_author_page_lists_what_was_done_and_their_states(client, admin, account, moderator):
    await moderator.post(f"/accounts/{account['id']}/people/add", {"kind": "optout", "author": _alice()})
    page = await moderator.get(f"/accounts/{account['id']}/authors/{_alice()}")
    assert page.status_code == 200
    text = page.text
    assert "Alice Liddell" in text and "first #coffee of the day" in text and "flat white #coffee" in text
    assert "espresso" not in text and text.count("Coffee talk") == 2 and "(2)" in text
    assert "opted out" in text and "Block…" in text and "Record consent…" in text
    # named by a handle, the page is the person's, by id
    by_handle = await moderator.get(f"/accounts/{account['id']}/authors/@Alice")
    assert by_handle.status_code == 303 and by_handle.headers["location"].endswith(f"/authors/{_alice()}")
    nobody = await moderator.get(f"/accounts/{account['id']}/authors/zed")
    assert nobody.status_code == 200 and "Nothing was done with their posts" in nobody.text


async def test_another_accounts_pages_are_not_found_and_bad_ids_are_422(client, admin, web, account):
    other = await make_account(client, admin, handle="teaclub")
    outsider = await web(Role.moderator, [other["id"]])
    for url in (f"/accounts/{account['id']}/people", f"/accounts/{account['id']}/authors/{_alice()}"):
        assert (await outsider.get(url)).status_code == 404
    for url in (f"/accounts/{account['id']}/people/check", f"/accounts/{account['id']}/people/add",
                f"/accounts/{account['id']}/people/remove"):
        assert (await outsider.post(url, {"kind": "block", "author": "alice"})).status_code == 404
    for url in ("/accounts/0/people", "/accounts/abc/people", f"/accounts/{2**40}/people",
                f"/accounts/{other['id']}/authors/a%01b"):
        assert (await outsider.get(url)).status_code == 422, url
    nul = await outsider.get(f"/accounts/{other['id']}/authors/a%00b")  # the app refuses NUL in any path
    assert nul.status_code == 404 and "NUL" in nul.text
    assert await _blocks(client, admin, account["id"]) == []


async def _event(runtime, account_id: int | None, action: str, detail: dict) -> None:
    async with transaction(runtime.sessions) as session:
        await record(session, None, action, target_type="rule", target_id=7, account_id=account_id, detail=detail)


async def test_the_audit_log_is_scoped_filtered_and_readable(client, admin, runtime, web, account, moderator):
    other = await make_account(client, admin, handle="teaclub")
    await _event(runtime, other["id"], "rule.update", {"before": {"query": "#tea"},
                                                       "after": {"query": "#tea OR #chai"}})
    await _event(runtime, account["id"], "rule.update", {"before": {"name": "old <b>"}, "after": {"name": "new"},
                                                         "note": "kept"})
    await moderator.post(f"/accounts/{account['id']}/people/add", {"kind": "block", "author": _alice(),
                                                                   "reason": "spam", "undo_existing": "on"})
    mine = await moderator.get("/audit")
    assert mine.status_code == 200 and "#chai" not in mine.text and "teaclub" not in mine.text
    assert "blocked an author" in mine.text and "old &lt;b&gt;" in mine.text and 'class="diff"' in mine.text
    assert f'href="/accounts/{account["id"]}/authors/{_alice()}"' in mine.text and "spam" in mine.text
    everything = await (await web(Role.admin, [])).get("/audit")
    assert "#chai" in everything.text and "teaclub" in everything.text
    only_blocks = await moderator.get("/audit", params={"action": "block.create"})
    assert "blocked an author" in only_blocks.text and "old &lt;b&gt;" not in only_blocks.text
    future = await moderator.get("/audit", params={"since": "2999-01-01"})
    assert "No changes" in future.text
    past = await moderator.get("/audit", params={"until": "2000-01-01"})
    assert "No changes" in past.text
    assert (await moderator.get("/audit", params={"account": other["id"]})).status_code == 404
    for params in ({"account": "x"}, {"since": "yesterday"}, {"account": "1\x00"}, {"offset": "-1"},
                   {"account": str(2**40)}):
        answer = await moderator.get("/audit", params=params)
        assert answer.status_code == 422, params


async def test_the_audit_log_pages(runtime, account, web):
    for n in range(55):
        await _event(runtime, account["id"], "rule.update", {"before": {"n": n}, "after": {"n": n + 1}})
    person = await web(Role.admin, [])
    first = await person.get("/audit", params={"action": "rule.update"})
    assert "1 to 50 of 55 changes" in first.text and "Newer" not in first.text
    older = re.search(r'href="(/audit\?[^"]*offset=50)">Older', first.text)
    assert older, first.text
    second = await person.get(html.unescape(older.group(1)))
    assert "51 to 55 of 55 changes" in second.text and "Older<" not in second.text and "Newer" in second.text


async def test_a_global_block_shows_on_the_account_and_only_an_admin_lifts_it(client, admin, web, account, moderator):
    made = await client.post(f"{API}/blocks", json={"author": "bob", "reason": "everywhere"}, headers=admin)
    assert made.status_code == 201, made.text
    listed = await moderator.get(f"/accounts/{account['id']}/people")
    assert "every account" in listed.text and "everywhere" in listed.text and "only an admin can lift it" in listed.text
    bob = world().authors["bob"].id
    fields = {"kind": "block", "author": bob, "scope": "global"}
    assert (await moderator.post(f"/accounts/{account['id']}/people/remove", fields)).status_code == 403
    boss = await web(Role.admin, [])
    assert "Unblock everywhere" in (await boss.get(f"/accounts/{account['id']}/people")).text
    assert (await boss.post(f"/accounts/{account['id']}/people/remove", fields)).status_code == 303
    assert (await client.get(f"{API}/blocks", headers=admin)).json()["total"] == 0


async def test_while_the_platform_is_down_the_name_is_blocked_as_typed(client, admin, account, moderator, monkeypatch):
    async def pause(self, seconds):
        return None

    monkeypatch.setattr(RetryPolicy, "pause", pause)
    world().fail_next(503, times=30)
    seen = await moderator.post(f"/accounts/{account['id']}/people/check", {"kind": "block", "author": "@Carol"})
    assert seen.status_code == 200 and "could not be asked who" in seen.text and "not yet looked up" in seen.text
    added = await moderator.post(f"/accounts/{account['id']}/people/add", {"kind": "block", "author": "carol"})
    assert added.headers["location"] == f"/accounts/{account['id']}/authors/carol"
    world().failures.clear()
    [block] = await _blocks(client, admin, account["id"])
    assert (block["author"], block["pending"]) == ("carol", True)
    page = await moderator.get(added.headers["location"])
    assert page.status_code == 200 and "not yet looked up" in page.text and "Unblock" in page.text
