"""One identity per author: whatever names a person is resolved to the platform's id and matched by it.

Through the API and the pipeline, on both databases, against the platforms' fake servers (a Bluesky
handle change; a Mastodon-API server that reports local accounts as `alice@instance`, as Takahē does)
and the mock platform (unknown names, an unreachable platform, rows from before ids were kept).
"""

from datetime import timedelta

import pytest

from app.pipeline import identities
from app.platforms.http import RetryPolicy
from tests.api.helpers import API, actions, by_post, ingest, make_account, make_rule, world
from tests.api.test_real_platforms import _connect, _harness
from tests.platforms.harness_bluesky import did_for, facets_for
from tests.platforms.mastodon.fake_server import FakeMastodon


async def _block(client, admin, account_id, author, **extra):
    return await client.post(f"{API}/accounts/{account_id}/blocks", json={"author": author, **extra}, headers=admin)


def _bsky_post(harness, name: str, text: str) -> str:
    return harness.server.publish(name, {"text": text, "facets": facets_for(text)})


@pytest.fixture
def bluesky(runtime, monkeypatch):
    return _harness("bluesky", runtime, monkeypatch)


async def test_a_bluesky_block_follows_the_person_through_a_handle_change(client, admin, pipeline, bluesky):
    account = await _connect(client, admin, bluesky, allow_without_consent=True, page_size=50)
    await make_rule(client, admin, account["id"], "#coffee")
    blocked = await _block(client, admin, account["id"], "@Alice.bsky.social", reason="spam")
    assert blocked.status_code == 201, blocked.text
    alice = did_for("alice")
    # alice renames; someone else registers her old handle
    bluesky.server.rename(alice, "alice-renamed.bsky.social")
    newcomer = bluesky.server.add_profile("mallory")
    bluesky.server.rename(newcomer, "alice.bsky.social")
    old_alice = _bsky_post(bluesky, "alice", "still me #coffee")
    new_owner = _bsky_post(bluesky, "mallory", "new here #coffee")
    await pipeline.tick()
    log = by_post(await actions(client, admin, account["id"]))
    assert log[old_alice]["reason"] == "blocked: spam"
    assert log[new_owner]["status"] == "done", log[new_owner]
    assert {"author": alice, "author_id": alice, "handle": "alice.bsky.social", "pending": False}.items() <= \
        blocked.json().items()
    # the handle shown follows her; the id stays
    await identities.resolve_due(pipeline.runtime, refresh_after=timedelta(0))  # as a day later
    [shown] = (await client.get(f"{API}/accounts/{account['id']}/blocks", headers=admin)).json()["items"]
    assert (shown["author_id"], shown["handle"]) == (alice, "alice-renamed.bsky.social")


async def test_bluesky_from_and_users_keep_their_person_after_a_handle_change(client, admin, pipeline, bluesky):
    account = await _connect(client, admin, bluesky, allow_without_consent=True, page_size=50)
    by_term = await make_rule(client, admin, account["id"], "from:alice.bsky.social", name="term")
    by_scope = await make_rule(client, admin, account["id"], "", scope="users:[bob.bsky.social]", name="scope")
    assert [(a["name"], a["author_id"]) for a in by_term["authors"]] == [("alice.bsky.social", did_for("alice"))]
    assert [a["author_id"] for a in by_scope["authors"]] == [did_for("bob")]
    for name in ("alice", "bob"):
        bluesky.server.rename(did_for(name), f"{name}-renamed.bsky.social")
        taker = bluesky.server.add_profile(f"{name}taker")
        bluesky.server.rename(taker, f"{name}.bsky.social")
    # editing the rule later does not hand the name to the handle's new owner
    patched = await client.patch(f"{API}/rules/{by_term['id']}", json={"name": "still alice"}, headers=admin)
    assert [a["author_id"] for a in patched.json()["authors"]] == [did_for("alice")]
    names = ("alice", "alicetaker", "bob", "bobtaker")
    posts = {name: _bsky_post(bluesky, name, f"a post by {name}") for name in names}
    await pipeline.tick()
    log = by_post(await actions(client, admin, account["id"]))
    assert {name for name, uri in posts.items() if uri in log and log[uri]["status"] == "done"} == {"alice", "bob"}


@pytest.fixture(params=["takahe", "mastodon"])
def mastodon(request, runtime, monkeypatch):
    """A Mastodon-API server whose local authors' `acct` carries the domain (Takahē) or not (Mastodon)."""
    harness = _harness("mastodon", runtime, monkeypatch)
    harness.fake = FakeMastodon(local_acct_with_domain=request.param == "takahe")
    runtime.http = harness.http()
    return harness


async def _mastodon_post(harness, username: str, text: str, **account) -> str:
    author = harness.fake.add_account(username, **account)
    return harness.fake.new_status(author, text)["id"]


async def test_mastodon_names_match_whether_the_server_reports_local_acct_with_its_domain_or_not(
        client, admin, pipeline, mastodon):
    account = await _connect(client, admin, mastodon, page_size=40)
    for name in ("alice", "bob", "carol", "dave", "erin"):
        mastodon.fake.add_account(name)
    mastodon.fake.add_account("remy", domain="mastodon.social")
    await make_rule(client, admin, account["id"], "#coffee", name="tag")
    await make_rule(client, admin, account["id"], "from:bob", name="from")
    await make_rule(client, admin, account["id"], "", scope="users:[dave, remy@mastodon.social]", name="users")
    assert (await _block(client, admin, account["id"], "@alice")).status_code == 201
    assert (await _block(client, admin, account["id"], "@carol@social.example")).status_code == 201
    # the same person under another form of her name is already blocked
    assert (await _block(client, admin, account["id"], "alice@social.example")).status_code == 409
    posts = {name: await _mastodon_post(mastodon, name, f"{name} here #coffee" if name in ("alice", "carol", "erin")
                                        else f"{name} says hi") for name in ("alice", "bob", "carol", "dave", "erin")}
    posts["remy"] = await _mastodon_post(mastodon, "remy", "remote hello", domain="mastodon.social")
    await pipeline.tick()
    log = by_post(await actions(client, admin, account["id"]))
    assert log[posts["alice"]]["reason"].startswith("blocked") and log[posts["carol"]]["reason"].startswith("blocked")
    assert {name for name in posts if posts[name] in log and log[posts[name]]["status"] == "done"} == {
        "bob", "dave", "erin", "remy"}
    # blocking a boosted author undoes the boost, whatever form the server gives her acct in
    undo = await _block(client, admin, account["id"], "@erin", undo_existing=True)
    assert (undo.json()["undo_queued"], undo.json()["handle"]) == (1, "erin@social.example")
    for name in ("carol", "@alice@social.example"):  # lifted by any form of the name
        assert (await client.delete(f"{API}/accounts/{account['id']}/blocks/{name}", headers=admin)).status_code == 204


async def test_bluesky_consent_stays_with_the_person_who_gave_it(client, admin, pipeline, bluesky):
    account = await _connect(client, admin, bluesky, page_size=50)  # Bluesky: consent needed by default
    await make_rule(client, admin, account["id"], "#coffee")
    added = await client.post(f"{API}/accounts/{account['id']}/authors/consent", json={"author": "alice.bsky.social"},
                              headers=admin)
    bluesky.server.rename(did_for("alice"), "alice-renamed.bsky.social")
    bluesky.server.rename(bluesky.server.add_profile("mallory"), "alice.bsky.social")
    hers, theirs = _bsky_post(bluesky, "alice", "mine #coffee"), _bsky_post(bluesky, "mallory", "me too #coffee")
    await pipeline.tick()
    log = by_post(await actions(client, admin, account["id"]))
    assert log[hers]["status"] == "done" and log[theirs]["reason"].startswith("consent:")
    assert added.json()["author_id"] == did_for("alice")


async def test_a_name_nobody_has_is_a_422_naming_it(client, admin):
    account = await make_account(client, admin)
    world().add_author("bob")
    blocked = await _block(client, admin, account["id"], "@ghost")
    assert blocked.status_code == 422 and "'ghost'" in blocked.json()["detail"]
    listed = await client.post(f"{API}/accounts/{account['id']}/authors/optout", json={"author": "phantom"},
                               headers=admin)
    assert listed.status_code == 422 and "'phantom'" in listed.json()["detail"]
    body = {"name": "r", "query": "from:bob OR to:nobody1 OR @nobody2", "scope": "users:[bob, x9]"}
    rule = await client.post(f"{API}/accounts/{account['id']}/rules", headers=admin, json=body)
    assert rule.status_code == 422
    assert all(f"'{name}'" in rule.json()["detail"] for name in ("nobody1", "nobody2", "x9"))
    assert "'bob'" not in rule.json()["detail"]


@pytest.fixture
def no_wait(monkeypatch):
    async def pause(self, seconds):
        return None

    monkeypatch.setattr(RetryPolicy, "pause", pause)


async def test_names_added_while_the_platform_is_down_stay_pending_in_sight_and_are_resolved_later(
        client, admin, pipeline, runtime, no_wait):
    account = await make_account(client, admin)
    w = world()
    bob = w.add_author("bob")
    w.fail_next(503, times=30)
    blocked = await _block(client, admin, account["id"], "Bob", reason="spam")
    rule = await make_rule(client, admin, account["id"], "", scope="users:[carol]")
    assert blocked.status_code == 201
    assert {"author": "bob", "author_id": None, "pending": True}.items() <= blocked.json().items()
    assert rule["authors"] == [{"name": "carol", "author_id": None, "handle": "carol", "pending": True}]
    listed = (await client.get(f"{API}/accounts/{account['id']}/blocks", headers=admin)).json()["items"]
    assert [(b["handle"], b["pending"]) for b in listed] == [("bob", True)]
    w.failures.clear()
    carol = w.add_author("carol")
    await identities.resolve_due(runtime)
    [shown] = (await client.get(f"{API}/accounts/{account['id']}/blocks", headers=admin)).json()["items"]
    assert (shown["author_id"], shown["handle"], shown["pending"]) == (bob.id, "bob", False)
    got = (await client.get(f"{API}/rules/{rule['id']}", headers=admin)).json()
    assert got["authors"] == [{"name": "carol", "author_id": carol.id, "handle": "carol", "pending": False}]
    # carol renames: the rule, resolved to her id, still takes her posts
    w.authors["carol-new"] = w.authors.pop("carol")
    w.authors["carol-new"].handle = "carol-new"
    posts = [w.publish("carol-new", "hello"), w.publish("bob", "hello")]
    await ingest(client, admin, posts)
    await pipeline.tick(poll=False)
    log = by_post(await actions(client, admin, account["id"]))
    assert log[posts[0].id]["status"] == "done" and posts[1].id not in log


async def test_blocks_from_before_ids_keep_working_and_are_resolved_by_the_pipeline(client, admin, pipeline, runtime):
    from app.models import Block

    account = await make_account(client, admin)
    await make_rule(client, admin, account["id"], "#coffee")
    bob = world().add_author("bob")
    async with runtime.sessions() as session, session.begin():  # as migration 0004 leaves an old row
        session.add(Block(account_id=account["id"], author="bob", handle="bob", pending=True, reason="old"))
    first = world().publish("bob", "one #coffee")
    await ingest(client, admin, [first])
    await pipeline.tick(poll=False)  # the identity step runs before matching
    [shown] = (await client.get(f"{API}/accounts/{account['id']}/blocks", headers=admin)).json()["items"]
    assert (shown["author_id"], shown["pending"]) == (bob.id, False)
    assert by_post(await actions(client, admin, account["id"]))[first.id]["reason"] == "blocked: old"


async def test_a_global_block_is_resolved_on_its_platform(client, admin, pipeline):
    account = await make_account(client, admin)
    await make_rule(client, admin, account["id"], "#coffee")
    bob = world().add_author("bob")
    blocked = await client.post(f"{API}/blocks", json={"author": "@BOB", "reason": "spam"}, headers=admin)
    assert blocked.status_code == 201 and blocked.json()["author_id"] == bob.id
    assert blocked.json()["platform"] == "mock"
    unknown = await client.post(f"{API}/blocks", json={"author": "bob", "platform": "nowhere"}, headers=admin)
    assert unknown.status_code == 422
    post = world().publish("bob", "buy #coffee")
    await ingest(client, admin, [post])
    await pipeline.tick(poll=False)
    assert (await actions(client, admin, account["id"]))[0]["reason"] == "blocked: spam"


async def test_a_pending_name_nobody_has_does_not_hold_up_the_others(client, admin, runtime, no_wait):
    account = await make_account(client, admin)
    bob = world().add_author("bob")
    world().fail_next(503, times=30)
    for name in ("ghost", "bob"):  # both kept pending while the platform is down
        assert (await _block(client, admin, account["id"], name)).json()["pending"] is True
    world().failures.clear()
    for _ in range(2):  # one name a run: ghost (nobody) first, then bob
        await identities.resolve_due(runtime, limit=1)
    listed = (await client.get(f"{API}/accounts/{account['id']}/blocks", headers=admin)).json()["items"]
    found = {b["handle"]: (b["author_id"], b["pending"]) for b in listed}
    assert found == {"ghost": (None, True), "bob": (bob.id, False)}
