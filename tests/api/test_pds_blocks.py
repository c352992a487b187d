"""PDS blocks through the API and the pipeline, on both databases: `pds:pds.spam.example` on a Bluesky
account skips authors whose DID document names that PDS (or a host under it) with the reason, not
others; an author whose PDS cannot be looked up is not blocked; lookups happen only while a PDS block
exists and are cached; undo_existing, CSV, roles, and bad input refused with nothing stored."""

from datetime import UTC, datetime

import pytest

from app.moderation import author_hosts
from tests.api.helpers import API, actions, by_post, make_account, make_rule
from tests.api.test_real_platforms import _connect, _harness
from tests.conftest import make_token
from tests.platforms.harness_bluesky import did_for, facets_for

REASON = "blocked PDS pds.spam.example: spam PDS"
CSV = {"Content-Type": "text/csv"}


async def _block(client, headers, account_id, author, **extra):
    return await client.post(f"{API}/accounts/{account_id}/blocks", json={"author": author, **extra}, headers=headers)


async def _blocks(client, headers, account_id) -> list[dict]:
    return (await client.get(f"{API}/accounts/{account_id}/blocks", headers=headers)).json()["items"]


@pytest.fixture
def bluesky(runtime, monkeypatch):
    harness = _harness("bluesky", runtime, monkeypatch)
    runtime.settings.plc_url = "https://plc.test"
    hosts = {"alice": "https://pds.spam.example", "bob": "https://eu.pds.spam.example:2583",
             "carol": "https://pds.elsewhere.example", "dave": "https://pds.spam.example"}
    for name, endpoint in hosts.items():
        harness.server.pds_endpoints[harness.server.add_profile(name)] = endpoint
    harness.server.plc_down.add(did_for("dave"))  # his DID document cannot be read
    return harness


def _post(bluesky, name: str, text: str = "hello #coffee") -> str:
    return bluesky.server.publish(name, {"text": text, "facets": facets_for(text)})


async def test_a_pds_block_skips_the_authors_hosted_there_and_undoes_earlier_reposts(client, admin, pipeline,
                                                                                     bluesky, monkeypatch):
    account = await _connect(client, admin, bluesky, allow_without_consent=True, page_size=50)
    await make_rule(client, admin, account["id"], "#coffee")
    earlier = _post(bluesky, "alice", "before any block #coffee")
    await pipeline.tick()
    assert by_post(await actions(client, admin, account["id"]))[earlier]["status"] == "done"
    assert bluesky.server.plc_requests == 0  # no PDS block anywhere: nobody is looked up

    made = await _block(client, admin, account["id"], "pds:PDS.Spam.Example", reason="spam PDS", undo_existing=True)
    assert made.status_code == 201, made.text
    assert {"kind": "pds", "pds": "pds.spam.example", "domain": None, "author": "pds:pds.spam.example",
            "handle": "pds:pds.spam.example", "author_id": None, "pending": False, "platform": "bluesky",
            "undo_queued": 0}.items() <= made.json().items()  # alice's PDS is not known yet: nothing to undo
    assert (await _block(client, admin, account["id"], "pds:https://pds.spam.example/")).status_code == 409
    posts = {name: _post(bluesky, name) for name in ("alice", "bob", "carol", "dave")}
    looking, refresh = [], author_hosts.refresh

    async def spy(*args, **kwargs):  # while the new authors are looked up, their actions are held
        queued = await actions(client, admin, account["id"], status="queued")
        looking.append(len(queued) == 4 and all(datetime.fromisoformat(a["next_attempt_at"]) > datetime.now(UTC)
                                                for a in queued))
        looking.append(sorted(args[2]))
        return await refresh(*args, **kwargs)

    monkeypatch.setattr(author_hosts, "refresh", spy)
    pipeline.runtime.settings.pds_lookup_seconds = 30  # the hold, at most: far longer than this test takes
    await pipeline.tick()
    assert looking == [True, sorted(did_for(n) for n in ("alice", "bob", "carol", "dave"))]
    log = by_post(await actions(client, admin, account["id"]))
    assert {name: log[uri]["reason"] for name, uri in posts.items() if log[uri]["status"] == "skipped"} == {
        "alice": REASON, "bob": REASON}  # bob's PDS is under the host blocked
    # carol is elsewhere; dave's DID document could not be read: not treated as blocked
    assert {name for name, uri in posts.items() if log[uri]["status"] == "done"} == {"carol", "dave"}
    asked = bluesky.server.plc_requests
    assert asked == 4
    async with runtime_session(pipeline) as session:
        cached = await author_hosts.known(session, [did_for(n) for n in ("alice", "bob", "dave")])
    assert cached[did_for("bob")].pds_host == "eu.pds.spam.example"
    assert cached[did_for("dave")].pds_host is None and "500" in cached[did_for("dave")].error

    again = {name: _post(bluesky, name, f"again {name} #coffee") for name in ("alice", "carol")}
    await pipeline.tick()
    log = by_post(await actions(client, admin, account["id"]))
    assert (log[again["alice"]]["reason"], log[again["carol"]]["status"]) == (REASON, "done")
    assert bluesky.server.plc_requests == asked  # known authors are not asked again (nor dave, so soon)

    # lifted and made again with undo: alice's earlier repost (her PDS is known now) is undone
    assert (await client.delete(f"{API}/accounts/{account['id']}/blocks/pds:pds.spam.example",
                                headers=admin)).status_code == 204
    redo = await _block(client, admin, account["id"], "pds:pds.spam.example", reason="spam PDS", undo_existing=True)
    assert redo.json()["undo_queued"] == 1
    assert by_post(await actions(client, admin, account["id"]))[earlier]["status"] in ("undoing", "undone")
    events = (await client.get(f"{API}/audit", params={"account_id": account["id"]}, headers=admin)).json()["items"]
    assert [e["detail"]["undo_queued"] for e in events if e["action"] == "block.create"] == [1, 0]
    assert {"kind": "pds", "pds": "pds.spam.example"}.items() <= events[0]["detail"].items()

    exported = await client.get(f"{API}/accounts/{account['id']}/blocks/export.csv", headers=admin)
    assert exported.text == "block,reason\npds:pds.spam.example,spam PDS\n"
    await client.delete(f"{API}/accounts/{account['id']}/blocks/pds:pds.spam.example", headers=admin)
    imported = await client.post(f"{API}/accounts/{account['id']}/blocks/import", content=exported.text.encode(),
                                 params={"undo_existing": "true"}, headers={**admin, **CSV})
    assert imported.status_code == 200, imported.text
    assert [(b["kind"], b["pds"], b["reason"]) for b in await _blocks(client, admin, account["id"])] == [
        ("pds", "pds.spam.example", "spam PDS")]


def runtime_session(pipeline):
    from app.db.session import transaction

    return transaction(pipeline.runtime.sessions)


async def test_pds_blocks_take_the_roles_of_domain_blocks_and_refuse_bad_input(client, admin, runtime, bluesky):
    sky = await _connect(client, admin, bluesky)
    other = await make_account(client, admin, "other")  # a mock account: no PDS there
    moderator = await make_token(runtime, "moderator", [sky["id"]])
    assert (await _block(client, moderator, sky["id"], "pds:pds.spam.example")).status_code == 201
    assert (await _block(client, moderator, other["id"], "pds:pds.spam.example")).status_code == 404
    assert (await client.post(f"{API}/blocks", json={"author": "pds:pds.spam.example"},
                              headers=moderator)).status_code == 403
    for bad in ("pds:", "pds:-bad-", "pds:spam\x00.example", "pds:localhost", "pds:" + "a" * 300 + ".example",
                "pds:pds spam.example"):
        response = await _block(client, admin, sky["id"], bad)
        assert response.status_code == 422, (bad, response.text)
        assert "\x00" not in response.text
    not_bluesky = await _block(client, admin, other["id"], "pds:pds.spam.example")
    assert not_bluesky.status_code == 422 and "for Bluesky" in not_bluesky.json()["detail"]
    refused = await client.post(f"{API}/accounts/{other['id']}/blocks/import", content=b"pds:pds.spam.example\n",
                                headers={**admin, **CSV})
    assert refused.status_code == 422 and "line 1" in refused.text
    assert await _blocks(client, admin, other["id"]) == []
    assert [b["author"] for b in await _blocks(client, admin, sky["id"])] == ["pds:pds.spam.example"]
    # global: admins; on Bluesky whatever `platform` says, other platforms refused
    made = await client.post(f"{API}/blocks", json={"author": "pds:pds.spam.example"}, headers=admin)
    assert (made.status_code, made.json()["platform"], made.json()["kind"]) == (201, "bluesky", "pds")
    wrong = await client.post(f"{API}/blocks", json={"author": "pds:pds.other.example", "platform": "mastodon"},
                              headers=admin)
    assert wrong.status_code == 422
    assert (await client.delete(f"{API}/blocks/pds:pds.spam.example", headers=moderator)).status_code == 403
    assert (await client.delete(f"{API}/blocks/pds:pds.spam.example", headers=admin)).status_code == 204
    assert (await client.delete(f"{API}/blocks/pds:-bad-", headers=admin)).status_code == 404


def test_did_documents_are_read_as_the_did_methods_say():
    assert author_hosts.document_url("did:plc:abc", "https://plc.directory/") == "https://plc.directory/did:plc:abc"
    assert author_hosts.document_url("did:web:example.com", "x") == "https://example.com/.well-known/did.json"
    assert author_hosts.document_url("did:web:example.com%3A8443:u:al", "x") == "https://example.com:8443/u/al/did.json"
    doc = {"id": "did:web:example.com", "service": [
        {"id": "did:web:example.com#atproto_pds", "type": "AtprotoPersonalDataServer",
         "serviceEndpoint": "https://PDS.Example.com:443"}]}
    assert author_hosts.pds_host_of("did:web:example.com", doc) == "pds.example.com"
    for bad in ({**doc, "id": "did:web:other.example"}, {"id": "did:web:example.com", "service": []}, [],
                {**doc, "service": [{**doc["service"][0], "serviceEndpoint": "not a url"}]}):
        with pytest.raises(ValueError):
            author_hosts.pds_host_of("did:web:example.com", bad)
