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
