"""Each real adapter end to end: connect through the API, poll, match, repost on the platform's fake server.

The fake servers are the contract suite's (tests/platforms/harness_*.py): the platforms' HTTP APIs
answered in the shapes their documentation gives, every request validated against the published spec.
"""

import importlib
import weakref

import pytest

from tests.api.helpers import API, actions
from tests.platforms.conftest import HARNESSES

REAL = [name for name in HARNESSES if name != "mock"]


def _harness(name, runtime, monkeypatch):
    """The platform's fake server becomes the runtime's HTTP client; retries do not really wait."""
    from app.platforms.http import RetryPolicy

    async def no_wait(self, seconds):
        return None

    monkeypatch.setattr(RetryPolicy, "pause", no_wait)
    # A renewal's new credentials are offered to the account's other clients for a few minutes;
    # each test's fake server starts its tokens afresh (and its account ids at 1), so forget them.
    from app.platforms import authorized

    monkeypatch.setattr(authorized, "_accounts", weakref.WeakValueDictionary())
    h = importlib.import_module(f"tests.platforms.harness_{name}").make_harness()
    runtime.http = h.http()
    # The fakes date their posts as the documentation's examples do (years ago); take them anyway.
    runtime.settings.first_poll_max_age_seconds = 10**10
    return h


@pytest.fixture(params=REAL)
def harness(request, runtime, monkeypatch):
    return _harness(request.param, runtime, monkeypatch)


async def _connect(client, admin, h, stop_words: bool = False, **config) -> dict:
    """The harness's account, polling its one source (its mentions too with `stop_words`)."""
    ctx = h.context()
    body = {"platform": h.name, "handle": ctx.handle, "credentials": ctx.credentials,
            "config": {**ctx.config, **config}, "sources": [h.source], "stop_words": {"enabled": stop_words}}
    response = await client.post(f"{API}/accounts", json=body, headers=admin)
    assert response.status_code == 201, response.text
    assert "credentials" not in response.json() and response.json()["platform_user_id"]
    return response.json()


async def test_connect_poll_match_and_repost_on_the_platform(client, admin, pipeline, harness):
    account = await _connect(client, admin, harness, allow_without_consent=True)
    rule = await client.post(f"{API}/accounts/{account['id']}/rules", json={"name": "coffee", "query": "#coffee"},
                             headers=admin)
    assert rule.status_code == 201, rule.text
    post_id = harness.add_post("plain", text="Fresh beans today #coffee")
    await pipeline.tick()
    done = await actions(client, admin, account["id"], status="done")
    assert [a["post_id"] for a in done] == [post_id], await actions(client, admin, account["id"])
    assert harness.is_reposted(post_id)
    undo = await client.post(f"{API}/actions/{done[0]['id']}/undo", headers=admin)
    assert undo.status_code == 202
    await pipeline.tick()
    assert not harness.is_reposted(post_id)
    harness.validate_requests()


async def test_wrong_credentials_are_a_clear_422(client, admin, harness):
    ctx = harness.context()
    harness.fail_next(401, times=10)
    body = {"platform": harness.name, "handle": ctx.handle, "credentials": ctx.credentials, "config": ctx.config}
    response = await client.post(f"{API}/accounts", json=body, headers=admin)
    assert response.status_code == 422 and response.json()["error"] == "credentials rejected"
    assert (await client.get(f"{API}/accounts", headers=admin)).json()["total"] == 0


async def test_likes_are_refused_where_the_platform_forbids_them(client, admin, harness):
    account = await _connect(client, admin, harness)
    response = await client.post(f"{API}/accounts/{account['id']}/rules",
                                 json={"name": "likes", "query": "#coffee", "action": "like"}, headers=admin)
    if harness.name == "x":
        assert response.status_code == 422 and "does not allow automated likes" in response.json()["detail"]
    else:
        assert response.status_code == 201


@pytest.fixture
def bluesky(runtime, monkeypatch):
    return _harness("bluesky", runtime, monkeypatch)


async def test_bluesky_reposts_only_authors_who_opted_in(client, admin, pipeline, bluesky):
    harness = bluesky
    account = await _connect(client, admin, harness)
    await client.post(f"{API}/accounts/{account['id']}/rules", json={"name": "c", "query": "#coffee"}, headers=admin)
    post_id = harness.add_post("plain", text="Fresh beans today #coffee")
    await pipeline.tick()
    [skipped] = await actions(client, admin, account["id"])
    assert skipped["post_id"] == post_id and skipped["reason"].startswith("consent:")
    author = skipped["author_handle"]
    added = await client.post(f"{API}/accounts/{account['id']}/authors/consent", json={"author": author}, headers=admin)
    assert added.status_code == 201
    second = harness.add_post("plain", text="More beans #coffee")
    await pipeline.tick()
    assert harness.is_reposted(second)


async def test_tokens_refreshed_outside_a_transaction_are_saved_encrypted(client, admin, pipeline, runtime,
                                                                          monkeypatch):
    """X refresh tokens are single-use: a refresh during an undo (a call made outside any
    transaction) must reach the database, or the account is locked out."""
    from sqlalchemy import select

    from app.accounts.crypto import decrypt, encrypt
    from app.models import Account

    x = _harness("x", runtime, monkeypatch)
    account = await _connect(client, admin, x, allow_without_consent=True)
    await client.post(f"{API}/accounts/{account['id']}/rules", json={"name": "c", "query": "#coffee"}, headers=admin)
    post_id = x.add_post("plain", text="Fresh beans #coffee")
    await pipeline.tick()
    [done] = await actions(client, admin, account["id"], status="done")
    async with runtime.sessions() as session, session.begin():  # the access token has just expired
        row = await session.get(Account, account["id"])
        row.credentials_encrypted = encrypt(runtime.fernet, {**decrypt(runtime.fernet, row.credentials_encrypted),
                                                             "expires_at": 0})
    before = x.fake.refresh_token
    await client.post(f"{API}/actions/{done['id']}/undo", headers=admin)
    await pipeline.tick(poll=False)  # no poll: the undo is the first call to need the new token
    assert not x.is_reposted(post_id) and x.fake.refresh_token != before
    async with runtime.sessions() as session:
        blob = await session.scalar(select(Account.credentials_encrypted).where(Account.id == account["id"]))
    saved = decrypt(runtime.fernet, blob)
    assert saved["refresh_token"] == x.fake.refresh_token and saved["access_token"] == x.fake.access_token


async def test_a_deleted_original_is_noticed_and_leaves_no_repost_behind(client, admin, pipeline, harness, runtime):
    account = await _connect(client, admin, harness, allow_without_consent=True)
    await client.post(f"{API}/accounts/{account['id']}/rules", json={"name": "c", "query": "#coffee"}, headers=admin)
    post_id = harness.add_post("plain", text="Fresh beans today #coffee")
    await pipeline.tick()
    assert harness.is_reposted(post_id)
    harness.delete_post(post_id)
    runtime.settings.originals_check_seconds = 0.001
    await pipeline.tick(poll=False)  # looks the original up; on Bluesky asks to remove the dangling repost
    await pipeline.tick(poll=False)
    [action] = await actions(client, admin, account["id"])
    assert action["original_state"] == "deleted" and action["reason"].startswith("original deleted by its author")
    assert not harness.is_reposted(post_id)  # the platform removed it with the post, or we did (Bluesky)
    assert action["status"] == ("undone" if harness.name == "bluesky" else "done")
    harness.validate_requests()
