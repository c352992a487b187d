"""Domain blocks through the API and the pipeline, on both databases: `*@spam.example` on a Mastodon
account (its authors and its subdomains' skipped, earlier reposts undone), `*.spam.example` on Bluesky
(handles under the domain), roles, and bad domains refused with nothing stored."""

import pytest

from tests.api.helpers import API, actions, by_post, make_account, make_rule
from tests.api.test_real_platforms import _connect, _harness
from tests.conftest import make_token
from tests.platforms.harness_bluesky import did_for, facets_for
from tests.platforms.mastodon.fake_server import FakeMastodon

REASON = "blocked domain spam.example: spam farm"


async def _block(client, headers, account_id, author, **extra):
    return await client.post(f"{API}/accounts/{account_id}/blocks", json={"author": author, **extra}, headers=headers)


async def _blocks(client, headers, account_id) -> list[dict]:
    return (await client.get(f"{API}/accounts/{account_id}/blocks", headers=headers)).json()["items"]


@pytest.fixture
def mastodon(runtime, monkeypatch):
    harness = _harness("mastodon", runtime, monkeypatch)
    harness.fake = FakeMastodon()
    runtime.http = harness.http()
    return harness


def _toot(harness, username: str, domain: str | None, text: str) -> str:
    author = harness.fake.add_account(username, **({"domain": domain} if domain else {}))
    return harness.fake.new_status(author, text)["id"]


async def test_an_instance_block_stops_its_authors_and_subdomains_and_undoes_earlier_reposts(
        client, admin, pipeline, mastodon):
    account = await _connect(client, admin, mastodon, page_size=40)
    await make_rule(client, admin, account["id"], "#coffee")
    earlier = _toot(mastodon, "alice", "spam.example", "buy now #coffee")
    await pipeline.tick()
    assert by_post(await actions(client, admin, account["id"]))[earlier]["status"] == "done"

    made = await _block(client, admin, account["id"], "*@Spam.Example", reason="spam farm", undo_existing=True)
    assert made.status_code == 201, made.text
    assert {"kind": "domain", "domain": "spam.example", "handle": "*@spam.example", "author_id": None,
            "undo_queued": 1, "pending": False}.items() <= made.json().items()
    # the same domain in its other spelling is the same block
    assert (await _block(client, admin, account["id"], "*.spam.example")).status_code == 409
    posts = {who: _toot(mastodon, name, domain, f"{name} here #coffee") for who, name, domain in [
        ("alice", "alice", "spam.example"), ("bob", "bob", "sub.spam.example"),
        ("carol", "carol", "notspam.example"), ("dave", "dave", None), ("erin", "erin", "spam.example.org")]}
    await pipeline.tick()
    log = by_post(await actions(client, admin, account["id"]))
    assert {who: log[pid]["reason"] for who, pid in posts.items() if log[pid]["status"] == "skipped"} == {
        "alice": REASON, "bob": REASON}
    assert {who for who, pid in posts.items() if log[pid]["status"] == "done"} == {"carol", "dave", "erin"}
    assert log[earlier]["status"] in ("undoing", "undone")
    [listed] = await _blocks(client, admin, account["id"])
    assert (listed["kind"], listed["domain"], listed["author"]) == ("domain", "spam.example", "*.spam.example")
    events = (await client.get(f"{API}/audit", params={"account_id": account["id"]}, headers=admin)).json()["items"]
    [event] = [e for e in events if e["action"] == "block.create"]
    assert event["detail"]["domain"] == "spam.example" and event["detail"]["undo_queued"] == 1
    assert (await client.delete(f"{API}/accounts/{account['id']}/blocks/*@spam.example",
                                headers=admin)).status_code == 204
    assert await _blocks(client, admin, account["id"]) == []
    # Mastodon's own blocked_domains.csv: a bare domain a line (no Mastodon name has a dot without an @)
    imported = await client.post(f"{API}/accounts/{account['id']}/blocks/import", content=b"spam.example\n",
                                 headers={**admin, "Content-Type": "text/csv"})
    assert imported.status_code == 200, imported.text
    assert [(b["kind"], b["handle"]) for b in await _blocks(client, admin, account["id"])] == [
        ("domain", "*@spam.example")]


@pytest.fixture
def bluesky(runtime, monkeypatch):
    return _harness("bluesky", runtime, monkeypatch)


async def test_a_bluesky_domain_block_holds_for_every_handle_under_the_domain(client, admin, pipeline, bluesky):
    account = await _connect(client, admin, bluesky, allow_without_consent=True, page_size=50)
    await make_rule(client, admin, account["id"], "#coffee")
    handles = {"alice": "alice.spam.example", "root": "spam.example", "bob": "bob.bsky.social",
               "carol": "spam.example.bsky.social"}
    for name, handle in handles.items():
        bluesky.server.rename(bluesky.server.add_profile(name), handle)
    made = await _block(client, admin, account["id"], "*.spam.example", reason="spam farm")
    assert (made.status_code, made.json()["handle"]) == (201, "*.spam.example"), made.text
    text = "hello #coffee"
    posts = {name: bluesky.server.publish(name, {"text": text, "facets": facets_for(text)}) for name in handles}
    await pipeline.tick()
    log = by_post(await actions(client, admin, account["id"]))
    assert {name for name, uri in posts.items() if log[uri]["status"] == "skipped"} == {"alice", "root"}
    assert log[posts["alice"]]["reason"] == REASON and log[posts["bob"]]["status"] == "done"
    assert did_for("alice") not in {b["author"] for b in await _blocks(client, admin, account["id"])}


async def test_domain_blocks_take_the_roles_of_author_blocks_and_refuse_bad_domains(client, admin, runtime):
    mine, other = await make_account(client, admin, "mine"), await make_account(client, admin, "other")
    moderator = await make_token(runtime, "moderator", [mine["id"]])
    assert (await _block(client, moderator, mine["id"], "*@spam.example")).status_code == 201
    assert (await _block(client, moderator, other["id"], "*@spam.example")).status_code == 404
    refused = await client.post(f"{API}/blocks", json={"author": "*@spam.example"}, headers=moderator)
    assert refused.status_code == 403
    for bad in ("*@", "*@-bad-", "*@spam\x00.example", "*@" + "a" * 300 + ".example", "*@example", "*spam.example"):
        response = await _block(client, admin, other["id"], bad)
        assert response.status_code == 422, (bad, response.text)
        assert "\x00" not in response.text
    assert await _blocks(client, admin, other["id"]) == []
    # a global domain block, for every platform unless one is named
    made = await client.post(f"{API}/blocks", json={"author": "*@spam.example"}, headers=admin)
    assert (made.status_code, made.json()["platform"], made.json()["account_id"]) == (201, None, None)
    x_only = await client.post(f"{API}/blocks", json={"author": "*@other.example", "platform": "x"}, headers=admin)
    assert x_only.status_code == 422 and "not in domains" in x_only.json()["detail"]
    nameless = await client.post(f"{API}/blocks", json={"author": "*@other.example", "platform": ""}, headers=admin)
    assert nameless.status_code == 422
    # global lists in and out: admins only
    csv = {"Content-Type": "text/csv"}
    assert (await client.post(f"{API}/blocks/import", content=b"*.more.example\n",
                              headers={**moderator, **csv})).status_code == 403
    assert (await client.get(f"{API}/blocks/export.csv", headers=moderator)).status_code == 403
    imported = await client.post(f"{API}/blocks/import", content=b"*.more.example\n*@spam.example\n",
                                 headers={**admin, **csv})
    assert [line["outcome"] for line in imported.json()["lines"]] == ["added", "skipped"]
    exported = await client.get(f"{API}/blocks/export.csv", params={"format": "mastodon"}, headers=admin)
    assert exported.text.splitlines()[1:] == ["spam.example,suspend,false,false,,false",
                                              "more.example,suspend,false,false,,false"]
    multipart = await client.post(f"{API}/blocks/import", files={"file": ("b.csv", b"*@x.example\n")}, headers=admin)
    assert multipart.status_code == 415 and "text/csv" in multipart.json()["detail"]


async def _import(client, headers, account_id, text: str, **params):
    return await client.post(f"{API}/accounts/{account_id}/blocks/import", content=text.encode(), params=params,
                             headers={**headers, "Content-Type": "text/csv"})


async def test_a_block_list_goes_out_as_csv_and_into_another_account(client, admin, runtime):
    source, target = await make_account(client, admin, "source"), await make_account(client, admin, "target")
    from tests.api.helpers import world
    for name in ("troll", "shill@spam.example"):
        world().add_author(name)
    for author, reason in (("*@spam.example", "spam farm"), ("troll", 'says "hi", a lot'), ("*.bad.example", "")):
        assert (await _block(client, admin, source["id"], author, reason=reason)).status_code == 201
    exported = await client.get(f"{API}/accounts/{source['id']}/blocks/export.csv", headers=admin)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert exported.text == ('block,reason\n*@spam.example,spam farm\ntroll,"says ""hi"", a lot"\n'
                             "*@bad.example,\n")
    mastodon = await client.get(f"{API}/accounts/{source['id']}/blocks/export.csv", params={"format": "mastodon"},
                                headers=admin)
    assert mastodon.text.splitlines() == ["#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate",
                                          "spam.example,suspend,false,false,spam farm,false",
                                          "bad.example,suspend,false,false,,false"]
    moderator = await make_token(runtime, "moderator", [target["id"]])
    imported = await _import(client, moderator, target["id"], exported.text + "troll,again\n")
    assert imported.status_code == 200, imported.text
    report = imported.json()
    assert (report["added"], report["skipped"]) == (3, 1)
    assert [(line["line"], line["outcome"]) for line in report["lines"]] == [
        (2, "added"), (3, "added"), (4, "added"), (5, "skipped")]
    again = await client.get(f"{API}/accounts/{target['id']}/blocks/export.csv", headers=admin)
    assert again.text == exported.text
    # Mastodon's own domain-block file, and its list of blocked accounts (a `user@domain` a line)
    other = await make_account(client, admin, "other")
    assert (await _import(client, admin, other["id"], mastodon.text + "quiet.example,noop,true,false,,false\n"
                          )).json()["left_out"] == 1
    report = (await _import(client, admin, other["id"], "shill@spam.example\n*@bad.example\n")).json()
    assert [line["outcome"] for line in report["lines"]] == ["added", "skipped"]
    assert [b["kind"] for b in await _blocks(client, admin, other["id"])] == ["author", "domain", "domain"]
    # reading needs the account; importing needs to moderate it
    assert (await _import(client, moderator, source["id"], "*@x.example\n")).status_code == 404


async def test_a_bad_block_list_is_refused_whole_with_its_lines_named(client, admin, runtime):
    account = await make_account(client, admin, "lists")
    bad = "block,reason\n*@ok.example,fine\n*@-bad-,x\nnobody-here,y\n*@,z\nok2@fine.example,\x00\n"
    response = await _import(client, admin, account["id"], bad)
    assert response.status_code == 422, response.text
    assert [p["line"] for p in response.json()["detail"]] == [6]  # a NUL refuses the file before anything else
    bad = bad.replace("\x00", "")
    response = await _import(client, admin, account["id"], bad)
    assert response.status_code == 422, response.text
    assert [p["line"] for p in response.json()["detail"]] == [3, 4, 5, 6]
    assert "nobody on mock" in response.json()["detail"][1]["message"]
    bare = await _import(client, admin, account["id"], "spam.example\n")  # Mastodon's blocked_domains.csv
    assert "a domain? write *@spam.example" in bare.json()["detail"][0]["message"]
    assert await _blocks(client, admin, account["id"]) == []
    too_big = await _import(client, admin, account["id"], "*@a.example\n" * 90_000)
    assert too_big.status_code == 413
    too_long = await _import(client, admin, account["id"], "".join(f"*@d{i}.example\n" for i in range(10_002)))
    assert too_long.status_code == 413
    assert (await _import(client, admin, account["id"], "")).status_code == 422
    assert (await client.post(f"{API}/accounts/{account['id']}/blocks/import", content=b"\xff\xfe",
                              headers={**admin, "Content-Type": "text/csv"})).status_code == 422
    assert await _blocks(client, admin, account["id"]) == []


async def test_an_import_stops_and_undoes_as_each_block_would(client, admin, pipeline):
    from tests.api.helpers import ingest, world
    w = world()
    for handle in ("shill@spam.example", "troll", "alice"):
        w.add_author(handle)
    account = await make_account(client, admin, "importer")
    rule = await make_rule(client, admin, account["id"], "#coffee")
    await ingest(client, admin, [w.publish(h, f"{h} #coffee") for h in ("shill@spam.example", "troll", "alice")])
    await pipeline.tick(poll=False)
    # one more of shill's, held for review: waiting when the list comes in
    await client.patch(f"{API}/rules/{rule['id']}", json={"review": True}, headers=admin)
    await ingest(client, admin, [w.publish("shill@spam.example", "held #coffee")])
    await pipeline.tick(poll=False)
    report = await _import(client, admin, account["id"], "*@spam.example,spam\ntroll\n@Troll\n",
                           undo_existing="true")
    assert report.status_code == 200, report.text
    assert [(line["outcome"], line["detail"]) for line in report.json()["lines"]] == [
        ("added", "*@spam.example"), ("added", "troll"), ("skipped", "the same as line 2")]
    undone = {a["author_handle"] for a in await actions(client, admin, account["id"]) if a["undo_requested_at"]}
    assert undone == {"shill@spam.example", "troll"}
    events = (await client.get(f"{API}/audit", params={"account_id": account["id"]}, headers=admin)).json()["items"]
    assert sorted((e["action"], e["detail"].get("undo_queued")) for e in events if e["action"].startswith("block")) \
        == [("block.create", 1), ("block.create", 1), ("block.import", None)]
    assert [(a["author_handle"], a["reason"]) for a in await actions(client, admin, account["id"],
                                                                     status="skipped")] == [
        ("shill@spam.example", "blocked domain spam.example: spam")]
    [domain_event] = [e["detail"] for e in events if e["detail"].get("kind") == "domain"]
    assert domain_event["unqueued"] == 1


async def test_a_block_with_undo_existing_leaves_the_reply_to_a_stop_mention(client, admin, pipeline, mastodon):
    """Seen on Takahē (docs/tryouts/issue13-takahe.md): `*@takahe.test` with undo_existing deleted the
    account's replies telling erin and dave they were off the list. A block undoes reposts, not those."""
    account = await _connect(client, admin, mastodon, stop_words=True, allow_without_consent=True)
    aid = account["id"]
    patched = await client.patch(f"{API}/accounts/{aid}", headers=admin, json={"stop_words": {"reply": True}})
    assert patched.status_code == 200, patched.text
    await make_rule(client, admin, aid, "#coffee")
    erin = mastodon.fake.add_account("erin", domain="spam.example")
    boosted = mastodon.fake.new_status(erin, "erin's #coffee")["id"]
    await pipeline.tick()
    mastodon.fake.new_status(erin, "@reposter_bot stop")
    await pipeline.tick()  # opted out (her boost stays: undo_existing is off), the reply queued...
    await pipeline.tick()  # ...and sent
    [reply] = [a for a in await actions(client, admin, aid) if a["kind"] == "reply"]
    assert reply["status"] == "done", reply

    made = await _block(client, admin, aid, "*@spam.example", reason="spam farm", undo_existing=True)
    assert made.status_code == 201 and made.json()["undo_queued"] == 1, made.text  # the boost alone
    person = await _block(client, admin, aid, erin["id"], undo_existing=True)
    assert person.status_code == 201 and person.json()["undo_queued"] == 0, person.text
    await pipeline.tick()
    log = {a["id"]: a for a in await actions(client, admin, aid)}
    assert log[reply["id"]]["status"] == "done" and reply["platform_action_id"] in mastodon.fake.statuses
    assert by_post(list(log.values()))[boosted]["status"] == "undone"
