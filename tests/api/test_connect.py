"""Connecting accounts on real servers' terms: the bot flag is best-effort and shown on the account,
and the credentials must belong to the handle given (issue 9, section 8)."""

import pytest

from tests.api.helpers import API
from tests.api.test_real_platforms import REAL, _harness


def _body(h, **changes) -> dict:
    ctx = h.context()
    return {"platform": h.name, "handle": ctx.handle, "credentials": ctx.credentials, "config": ctx.config,
            **changes}


@pytest.fixture
def mastodon(runtime, monkeypatch):
    return _harness("mastodon", runtime, monkeypatch)


async def test_a_server_that_refuses_the_bot_flag_connects_with_a_warning(client, admin, mastodon):
    # Takahē: the bot flag needs the whole `write` scope; the documented granular scopes were granted.
    mastodon.fake.bot_flag_needs_write = True
    mastodon.fake.token_scopes = "read write:statuses write:favourites write:accounts"
    response = await client.post(f"{API}/accounts", json=_body(mastodon), headers=admin)
    assert response.status_code == 201, response.text
    account = response.json()
    assert account["status"] == "active" and mastodon.fake.me["bot"] is False
    [condition] = account["conditions"]
    assert (condition["code"], condition["severity"], condition["http_status"]) == ("bot_flag", "warning", 403)
    assert "automated account" in condition["message"] and condition["message"] in account["status_detail"]

    mastodon.fake.token_scopes = "read write"  # the owner logged in again with `write`
    again = await client.patch(f"{API}/accounts/{account['id']}", json={"credentials": _body(mastodon)["credentials"]},
                               headers=admin)
    assert again.status_code == 200, again.text
    assert again.json()["conditions"] == [] and mastodon.fake.me["bot"] is True


async def test_a_server_that_ignores_a_json_bot_flag_gets_it_set(client, admin, mastodon):
    mastodon.fake.bot_flag_json_ignored = True  # Takahē: 200, and the flag stays off for JSON `true`
    response = await client.post(f"{API}/accounts", json=_body(mastodon), headers=admin)
    assert response.status_code == 201, response.text
    assert mastodon.fake.me["bot"] is True and response.json()["conditions"] == []


async def test_a_flag_left_off_after_a_200_is_shown_on_the_account(client, admin, mastodon, monkeypatch):
    fake = mastodon.fake
    monkeypatch.setattr(fake, "_update_credentials",
                        lambda request: fake._reply(request, 200, fake.credential_account()))
    response = await client.post(f"{API}/accounts", json=_body(mastodon), headers=admin)
    assert response.status_code == 201, response.text
    assert [c["code"] for c in response.json()["conditions"]] == ["bot_flag"]


@pytest.fixture(params=REAL)
def harness(request, runtime, monkeypatch):
    return _harness(request.param, runtime, monkeypatch)


async def test_credentials_of_another_account_are_refused_naming_both(client, admin, harness):
    response = await client.post(f"{API}/accounts", json=_body(harness, handle="ourcafe_p"), headers=admin)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "handle mismatch"
    assert "'ourcafe_p'" in body["detail"] and harness.context().handle.split("@")[0] in body["detail"]
    assert (await client.get(f"{API}/accounts", headers=admin)).json()["total"] == 0


async def test_the_handle_is_compared_without_case_or_a_leading_at(client, admin, harness):
    handle = "@" + harness.context().handle.upper()
    response = await client.post(f"{API}/accounts", json=_body(harness, handle=handle), headers=admin)
    assert response.status_code == 201, response.text
    assert response.json()["handle"] == handle


async def test_a_mastodon_handle_may_leave_out_its_own_instance(client, admin, mastodon):
    response = await client.post(f"{API}/accounts", json=_body(mastodon, handle="reposter_bot"), headers=admin)
    assert response.status_code == 201, response.text
    other = await client.post(f"{API}/accounts", json=_body(mastodon, handle="reposter_bot@elsewhere.example"),
                              headers=admin)
    assert other.status_code == 422 and other.json()["error"] == "handle mismatch"


async def test_one_platform_user_is_one_account_whatever_the_handles_spelling(client, admin, harness):
    """Seen on Takahē: `cafebot@127.0.0.1` and `cafebot@takahe.test` both connected, so each post would
    have been reposted by both. The second spelling of the same user is a 409 naming the first."""
    handle = harness.context().handle
    first = await client.post(f"{API}/accounts", json=_body(harness, handle=handle), headers=admin)
    assert first.status_code == 201, first.text
    again = await client.post(f"{API}/accounts", json=_body(harness, handle="@" + handle.upper()), headers=admin)
    assert again.status_code == 409, again.text
    assert handle in again.json()["detail"] and f"account {first.json()['id']}" in again.json()["detail"]
    assert (await client.get(f"{API}/accounts", headers=admin)).json()["total"] == 1


async def test_unretweets_are_spaced_as_x_allows(client, admin, pipeline, runtime, monkeypatch):
    """X allows 50 unretweets per 15 minutes per user: one per 18 s, however many are asked at once."""
    from datetime import datetime, timedelta

    from tests.api.helpers import actions

    x = _harness("x", runtime, monkeypatch)
    body = _body(x, sources=[x.source], limits={"min_interval_seconds": 0},
                 config={**x.context().config, "allow_without_consent": True})
    account = (await client.post(f"{API}/accounts", json=body, headers=admin)).json()
    await client.post(f"{API}/accounts/{account['id']}/rules", json={"name": "c", "query": "#coffee"}, headers=admin)
    # one page: the first poll reads it whole
    posts = [x.add_post("plain", text=f"Fresh beans {n} #coffee") for n in range(2)]
    await pipeline.tick()
    done = await actions(client, admin, account["id"], status="done")
    assert len(done) == 2 and all(x.is_reposted(p) for p in posts)
    for action in done:
        assert (await client.post(f"{API}/actions/{action['id']}/undo", headers=admin)).status_code == 202
    await pipeline.tick(poll=False)
    [undone] = await actions(client, admin, account["id"], status="undone")
    waiting = await actions(client, admin, account["id"], status="undoing")
    assert len(waiting) == 1 and sum(x.is_reposted(p) for p in posts) == 1
    first = datetime.fromisoformat(undone["undone_at"])
    assert all(datetime.fromisoformat(a["next_attempt_at"]) >= first + timedelta(seconds=18) for a in waiting)
