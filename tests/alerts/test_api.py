"""The alerts API: who may subscribe where, bad input, and a secret that is shown once."""

import pytest

from app.auth.caller import Role
from tests.alerts.receiver import subscribe
from tests.api.helpers import API, make_account
from tests.conftest import make_token

SUBS = f"{API}/alerts/subscriptions"


@pytest.fixture
async def setup(client, admin, runtime):
    mine = await make_account(client, admin, handle="mine")
    theirs = await make_account(client, admin, handle="theirs")
    tokens = {"organizer": await make_token(runtime, Role.organizer, [mine["id"]]),
              "moderator": await make_token(runtime, Role.moderator, [mine["id"]])}
    return {"mine": mine["id"], "theirs": theirs["id"], **tokens}


async def test_crud_and_the_secret_is_shown_once(client, admin, setup):
    made = await subscribe(client, setup["organizer"], account_id=setup["mine"], format="discord",
                           url="https://discord.com/api/webhooks/123/tok-en")
    secret = made["secret"]
    assert len(secret) >= 40 and made["url"] == "https://discord.com/api/…"
    sub_id = made["id"]
    shown = [await client.get(f"{SUBS}/{sub_id}", headers=setup["organizer"]),
             await client.get(SUBS, headers=setup["organizer"]),
             await client.patch(f"{SUBS}/{sub_id}", json={"review_minutes": 5, "kinds": ["review_waiting"]},
                                headers=setup["organizer"]),
             await client.get(f"{API}/audit", headers=admin)]
    for response in shown:
        assert response.status_code == 200, response.text
        assert secret not in response.text and "tok-en" not in response.text
    assert shown[0].json()["url"] == "https://discord.com/api/…"
    assert shown[2].json()["review_minutes"] == 5 and shown[2].json()["kinds"] == ["review_waiting"]
    assert [s["id"] for s in shown[1].json()["items"]] == [sub_id]
    renewed = await client.post(f"{SUBS}/{sub_id}/secret", headers=setup["organizer"])
    assert renewed.status_code == 200 and renewed.json()["secret"] != secret
    assert (await client.delete(f"{SUBS}/{sub_id}", headers=setup["organizer"])).status_code == 204
    assert (await client.get(f"{SUBS}/{sub_id}", headers=setup["organizer"])).status_code == 404


async def test_the_secret_is_stored_encrypted(client, admin, runtime, setup):
    from sqlalchemy import select

    from app.db.session import transaction
    from app.models import AlertSubscription

    made = await subscribe(client, admin, account_id=setup["mine"])
    async with transaction(runtime.sessions) as session:
        stored = await session.scalar(select(AlertSubscription.secret_encrypted))
    assert made["secret"] not in stored and runtime.fernet.decrypt(stored.encode())


async def test_who_may_do_what(client, admin, setup):
    organizer, moderator = setup["organizer"], setup["moderator"]
    body = {"name": "n", "url": "https://example.org/hook"}
    # a moderator may not configure alerts: 403 on its own account
    assert (await client.post(SUBS, json={**body, "account_id": setup["mine"]}, headers=moderator)).status_code == 403
    assert (await client.get(SUBS, headers=moderator)).status_code == 403
    # another account is a 404 (nothing leaks); every account at once needs an admin
    assert (await client.post(SUBS, json={**body, "account_id": setup["theirs"]}, headers=organizer)).status_code == 404
    assert (await client.post(SUBS, json=body, headers=organizer)).status_code == 403
    theirs = await subscribe(client, admin, account_id=setup["theirs"])
    everyone = await subscribe(client, admin)
    mine = await subscribe(client, admin, account_id=setup["mine"])
    for sub in (theirs, everyone):
        for method, path in [("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/test"), ("POST", "/secret"),
                             ("GET", "/deliveries"), ("GET", "/incidents")]:
            json = {"name": "x"} if method == "PATCH" else None
            response = await client.request(method, f"{SUBS}/{sub['id']}{path}", json=json, headers=organizer)
            assert response.status_code == 404, (method, path, response.text)
    assert (await client.get(f"{SUBS}/{mine['id']}", headers=moderator)).status_code == 403
    listed = (await client.get(SUBS, headers=organizer)).json()
    assert [s["id"] for s in listed["items"]] == [mine["id"]]
    everything = (await client.get(SUBS, headers=admin)).json()
    assert everything["total"] == 3
    one = (await client.get(SUBS, params={"account_id": setup["theirs"]}, headers=admin)).json()
    assert [s["id"] for s in one["items"]] == [theirs["id"]]


@pytest.mark.parametrize("body", [
    {"url": "ftp://example.org/hook"},
    {"url": "not a url"},
    {"url": "https:///no-host"},
    {"url": "https://example.org:port/x"},
    {"url": "https://example.org/\u0000"},
    {"name": "a\u0000b"},
    {"url": None},
    {"format": "teams"},
    {"kinds": []},
    {"kinds": ["weather"]},
    {"review_minutes": -1},
    {"channel": "email", "email_to": "nobody"},
    {"channel": "email", "url": None},
    {"account_id": 0},
    {"secret": "mine"},
])
async def test_bad_input_is_a_422(client, admin, setup, body):
    payload = {"name": "n", "url": "https://example.org/hook", "account_id": setup["mine"], **body}
    response = await client.post(SUBS, json=payload, headers=admin)
    assert response.status_code == 422, response.text


async def test_bad_patch_is_a_422(client, admin, setup):
    sub = await subscribe(client, admin, account_id=setup["mine"])
    for body in ({"url": "javascript:alert(1)"}, {"name": None}, {"account_id": setup["theirs"]}, {"enabled": None}):
        response = await client.patch(f"{SUBS}/{sub['id']}", json=body, headers=admin)
        assert response.status_code == 422, (body, response.text)


async def test_email_needs_an_smtp_server(client, admin, setup):
    response = await client.post(SUBS, json={"name": "n", "channel": "email", "email_to": "ops@example.org"},
                                 headers=admin)
    assert response.status_code == 422 and "REPOSTER_SMTP_HOST" in response.text
