"""Connecting an account from the dashboard over HTTP: the Mastodon and X sign-in redirects (OAuth
2.0 code with PKCE) against the fake servers, the Bluesky and mock forms, and who may do it."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import func, select

from app.accounts.connect import PENDING_SECONDS, Pending
from app.accounts.crypto import decrypt
from app.auth.caller import Role
from app.models import Account, User
from app.platforms.http import RetryPolicy
from app.web.pages.connect import COOKIE
from tests.api.helpers import make_account
from tests.platforms.harness_bluesky import PASSWORD as BSKY_PASSWORD
from tests.platforms.harness_bluesky import PDS, BlueskyHarness, handle_for
from tests.platforms.mastodon.fake_server import TOKEN, FakeMastodon
from tests.platforms.x.fake import CLIENT_ID, FakeX

CALLBACK = "http://test/connect/mastodon/callback"


@pytest.fixture(autouse=True)
def no_retry_wait(monkeypatch):
    async def no_wait(self, seconds):
        return None

    monkeypatch.setattr(RetryPolicy, "pause", no_wait)


@pytest.fixture
async def organizer(web, client, admin):
    """An organizer (of one mock account already there), signed in."""
    account = await make_account(client, admin, handle="first")
    return await web(Role.organizer, [account["id"]], name="olga")


@pytest.fixture
def mastodon(runtime) -> FakeMastodon:
    fake = FakeMastodon()
    runtime.http = fake.client()
    return fake


def _plant(person, value: str) -> None:
    """Put a pending sign-in cookie in a person's browser (as the service would have set it)."""
    domain = next(c.domain for c in person.http.cookies.jar if c.name == "reposter_session")
    person.http.cookies.set(COOKIE, value, domain=domain, path="/connect")


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def _count(runtime) -> int:
    async with runtime.sessions() as session:
        return (await session.execute(select(func.count()).select_from(Account))).scalar_one()


async def _account(runtime, account_id: int) -> Account:
    async with runtime.sessions() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        return account


async def _start_mastodon(person, instance: str = "social.example") -> dict[str, str]:
    answer = await person.post("/accounts/new/mastodon", {"instance": instance})
    assert answer.status_code == 303, answer.text
    return _query(answer.headers["location"]) | {"location": answer.headers["location"]}


async def test_mastodon_redirect_and_callback_connect_the_account(organizer, mastodon, runtime):
    shown = await organizer.get("/accounts/new")
    assert shown.status_code == 200 and 'href="/accounts/new/mastodon"' in shown.text
    assert (await organizer.get("/accounts/new/mastodon")).status_code == 200

    asked = await _start_mastodon(organizer, "@reposter_bot@social.example")  # a handle works too
    assert asked["location"].startswith("https://social.example/oauth/authorize?")
    assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) == 43
    assert asked["redirect_uri"] == CALLBACK and asked["response_type"] == "code" and len(asked["state"]) >= 32
    app = mastodon.apps[asked["client_id"]]
    assert app["redirect_uris"] == [CALLBACK] and "read" in app["scopes"]
    cookie = organizer.http.cookies[COOKIE]
    assert app["client_secret"] not in cookie and asked["state"] not in cookie  # sealed, not just signed

    code = mastodon.authorize(asked["location"])
    back = await organizer.get(f"/connect/mastodon/callback?code={code}&state={asked['state']}")
    assert back.status_code == 303, back.text
    account_id = int(back.headers["location"].rsplit("/", 1)[1])
    assert back.headers["location"] == f"/accounts/{account_id}"
    assert COOKIE not in organizer.http.cookies  # the pending sign-in is used up

    # the token was asked for with the verifier of the challenge and the same redirect URI
    [exchange] = [e for e in mastodon.exchanges if e.request.url.path == "/oauth/token"]
    sent = json.loads(exchange.request.content)
    digest = hashlib.sha256(sent["code_verifier"].encode()).digest()
    assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == asked["code_challenge"]
    assert sent["redirect_uri"] == CALLBACK

    account = await _account(runtime, account_id)
    assert (account.platform, account.handle) == ("mastodon", "reposter_bot@social.example")
    assert account.config == {"base_url": "https://social.example"}
    assert TOKEN not in account.credentials_encrypted
    assert decrypt(runtime.fernet, account.credentials_encrypted) == {"access_token": TOKEN}
    async with runtime.sessions() as session:
        olga = (await session.execute(select(User).where(User.name == "olga"))).scalar_one()
    assert account_id in olga.account_ids  # the organizer who connected it reaches it
    again = await organizer.get(f"/connect/mastodon/callback?code={code}&state={asked['state']}")
    assert again.status_code == 400 and "No sign-in in progress" in again.text and TOKEN not in again.text


async def test_a_server_before_pkce_still_connects(organizer, mastodon, runtime):
    """Mastodon before 4.3, Takahē and GoToSocial ignore the challenge; the verifier sent is ignored too."""
    mastodon.redirect_uris_string_only = True
    asked = await _start_mastodon(organizer)
    mastodon.codes["old-code"] = (asked["client_id"], "")  # the server kept no challenge
    back = await organizer.get(f"/connect/mastodon/callback?code=old-code&state={asked['state']}")
    assert back.status_code == 303, back.text
    assert await _count(runtime) == 2


async def test_full_write_is_asked_for_when_ticked(organizer, mastodon):
    answer = await organizer.post("/accounts/new/mastodon", {"instance": "social.example", "full_write": "1"})
    assert answer.status_code == 303
    assert _query(answer.headers["location"])["scope"] == "read write"


@pytest.mark.parametrize("state", ["", "forged-state"])
async def test_a_wrong_or_missing_state_is_refused_and_nothing_is_created(organizer, mastodon, runtime, state):
    asked = await _start_mastodon(organizer)
    code = mastodon.authorize(asked["location"])
    answer = await organizer.get(f"/connect/mastodon/callback?code={code}&state={state}")
    assert answer.status_code == 400
    assert "different state" in answer.text and "Start again" in answer.text
    assert await _count(runtime) == 1 and not any(e.request.url.path == "/oauth/token" for e in mastodon.exchanges)
    # the real sign-in is not ended by a forged answer
    back = await organizer.get(f"/connect/mastodon/callback?code={code}&state={asked['state']}")
    assert back.status_code == 303


async def test_another_persons_pending_sign_in_is_refused(organizer, mastodon, runtime, web, client, admin):
    asked = await _start_mastodon(organizer)
    other = await web(Role.admin, name="adam")
    _plant(other, organizer.http.cookies[COOKIE])
    answer = await other.get(f"/connect/mastodon/callback?code=x&state={asked['state']}")
    assert answer.status_code == 400 and "not this one" in answer.text, answer.text[-1500:]
    assert await _count(runtime) == 1


async def test_an_expired_sign_in_says_to_start_again(organizer, runtime):
    pending = Pending("mastodon", 1, "s" * 32, "v", CALLBACK, "client-1", "secret-1", "https://social.example")
    old = runtime.fernet.encrypt_at_time(json.dumps(pending.__dict__).encode(), int(time.time()) - PENDING_SECONDS - 5)
    _plant(organizer, old.decode())
    answer = await organizer.get(f"/connect/mastodon/callback?code=c&state={'s' * 32}")
    assert answer.status_code == 400 and "expired" in answer.text and "Start again" in answer.text


async def test_a_declined_authorization_is_a_clear_page(organizer, mastodon, runtime):
    asked = await _start_mastodon(organizer)
    answer = await organizer.get(f"/connect/mastodon/callback?error=access_denied&state={asked['state']}"
                                 "&error_description=The+resource+owner+denied+the+request")
    assert answer.status_code == 400 and "declined" in answer.text and await _count(runtime) == 1


async def test_a_refused_code_is_a_clear_page(organizer, mastodon, runtime):
    asked = await _start_mastodon(organizer)
    answer = await organizer.get(f"/connect/mastodon/callback?code=not-issued&state={asked['state']}")
    assert answer.status_code == 400, answer.text
    assert "refused" in answer.text and "authorization grant is invalid" in answer.text
    assert 'href="/accounts/new/mastodon"' in answer.text and await _count(runtime) == 1


async def test_an_unreachable_instance_is_a_clear_page(organizer, runtime):
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("name or service not known", request=request)

    runtime.http = httpx.AsyncClient(transport=httpx.MockTransport(down))
    answer = await organizer.post("/accounts/new/mastodon", {"instance": "nowhere.example"})
    assert answer.status_code == 502 and "Could not reach" in answer.text and "check the address" in answer.text.lower()
    assert COOKIE not in organizer.http.cookies


async def test_an_instance_refusing_the_app_is_a_clear_page(organizer, mastodon):
    mastodon.fail_next(503)
    answer = await organizer.post("/accounts/new/mastodon", {"instance": "social.example"})
    assert answer.status_code == 502 and "registering reposter" in answer.text


@pytest.mark.parametrize("typed", ["", "not a server", "https://social.example/some/path", "ftp://social.example",
                                   "social.example?x=1", "localhos"])
async def test_a_bad_server_address_is_the_form_again(organizer, mastodon, typed):
    answer = await organizer.post("/accounts/new/mastodon", {"instance": typed})
    assert answer.status_code == 422 and 'aria-invalid="true"' in answer.text and "mastodon.social" in answer.text
    assert mastodon.apps == {}


async def test_a_second_connect_of_the_same_account_says_so(organizer, mastodon, runtime):
    for expected in (303, 409):
        asked = await _start_mastodon(organizer)
        code = mastodon.authorize(asked["location"], code=f"code-{expected}")
        answer = await organizer.get(f"/connect/mastodon/callback?code={code}&state={asked['state']}")
        assert answer.status_code == expected, answer.text
    assert "Already connected" in answer.text and "already exists" in answer.text and await _count(runtime) == 2


# --- X ---------------------------------------------------------------------------------------


@pytest.fixture
def x(runtime) -> FakeX:
    fake = FakeX()
    runtime.http = httpx.AsyncClient(transport=httpx.MockTransport(fake))
    runtime.settings.x_client_id = CLIENT_ID
    return fake


async def test_x_redirect_and_callback_connect_the_account(organizer, x, runtime):
    runtime.settings.x_bearer_token = "app-bearer-token"
    answer = await organizer.post("/accounts/new/x")
    assert answer.status_code == 303
    location = answer.headers["location"]
    asked = _query(location)
    assert location.startswith("https://x.com/i/oauth2/authorize?")
    assert asked["code_challenge_method"] == "S256" and asked["client_id"] == CLIENT_ID
    assert asked["redirect_uri"] == "http://test/connect/x/callback"
    assert {"tweet.read", "tweet.write", "users.read", "offline.access"} <= set(asked["scope"].split())
    x.auth_code, x.auth_challenge = "x-code", asked["code_challenge"]  # the owner approved
    back = await organizer.get(f"/connect/x/callback?code=x-code&state={asked['state']}")
    assert back.status_code == 303, back.text
    account = await _account(runtime, int(back.headers["location"].rsplit("/", 1)[1]))
    assert (account.platform, account.handle) == ("x", "reposter_acct")
    credentials = decrypt(runtime.fernet, account.credentials_encrypted)
    assert credentials["access_token"] == x.access_token and credentials["refresh_token"] == x.refresh_token
    assert credentials["client_id"] == CLIENT_ID and credentials["bearer_token"] == "app-bearer-token"
    assert x.access_token not in account.credentials_encrypted


async def test_x_with_a_wrong_state_or_a_spent_code_connects_nothing(organizer, x, runtime):
    answer = await organizer.post("/accounts/new/x")
    asked = _query(answer.headers["location"])
    x.auth_code, x.auth_challenge = "x-code", asked["code_challenge"]
    forged = await organizer.get("/connect/x/callback?code=x-code&state=forged")
    assert forged.status_code == 400 and "different state" in forged.text
    spent = await organizer.get(f"/connect/x/callback?code=other-code&state={asked['state']}")
    assert spent.status_code == 400 and "X refused" in spent.text and await _count(runtime) == 1


async def test_x_not_set_up_says_what_the_operator_must_do(organizer, runtime):
    shown = await organizer.get("/accounts/new/x")
    assert shown.status_code == 200 and "REPOSTER_X_CLIENT_ID" in shown.text
    assert "http://test/connect/x/callback" in shown.text
    answer = await organizer.post("/accounts/new/x")
    assert answer.status_code == 503 and "REPOSTER_X_CLIENT_ID" in answer.text


async def test_the_callback_address_follows_public_url(organizer, x, runtime):
    runtime.settings.public_url = "https://reposter.example.org/"
    answer = await organizer.post("/accounts/new/x")
    assert _query(answer.headers["location"])["redirect_uri"] == "https://reposter.example.org/connect/x/callback"
    assert "Secure" in answer.headers["set-cookie"] and "Path=/connect" in answer.headers["set-cookie"]


# --- Bluesky and the mock ----------------------------------------------------------------------


async def test_bluesky_connects_with_handle_and_app_password(organizer, runtime):
    harness = BlueskyHarness()
    runtime.http = harness.http()
    shown = await organizer.get("/accounts/new/bluesky")
    assert shown.status_code == 200 and "App passwords" in shown.text
    wrong = await organizer.post("/accounts/new/bluesky", {"handle": handle_for("reposterbot"),
                                                           "app_password": "nope-nope-nope-nope", "pds_url": PDS})
    assert wrong.status_code == 422 and "refused" in wrong.text and "nope-nope" not in wrong.text
    answer = await organizer.post("/accounts/new/bluesky", {"handle": "@" + handle_for("reposterbot"),
                                                            "app_password": BSKY_PASSWORD, "pds_url": PDS})
    assert answer.status_code == 303, answer.text
    account = await _account(runtime, int(answer.headers["location"].rsplit("/", 1)[1]))
    assert (account.platform, account.handle, account.config) == ("bluesky", handle_for("reposterbot"),
                                                                  {"pds_url": PDS})
    assert BSKY_PASSWORD not in account.credentials_encrypted
    assert decrypt(runtime.fernet, account.credentials_encrypted)["app_password"] == BSKY_PASSWORD


async def test_bluesky_form_faults_are_shown_beside_their_fields(organizer, runtime):
    answer = await organizer.post("/accounts/new/bluesky", {"handle": " ", "app_password": "", "pds_url": "x y"})
    assert answer.status_code == 422 and answer.text.count('aria-invalid="true"') == 3
    assert await _count(runtime) == 1


async def test_the_mock_form_connects_an_account(organizer, runtime):
    assert (await organizer.get("/accounts/new/mock")).status_code == 200
    answer = await organizer.post("/accounts/new/mock", {"handle": "@uni_news"})
    assert answer.status_code == 303
    account = await _account(runtime, int(answer.headers["location"].rsplit("/", 1)[1]))
    assert (account.platform, account.handle) == ("mock", "uni_news")
    again = await organizer.post("/accounts/new/mock", {"handle": "uni_news"})
    assert again.status_code == 409 and "already exists" in again.text
    empty = await organizer.post("/accounts/new/mock", {"handle": ""})
    assert empty.status_code == 422 and 'aria-invalid="true"' in empty.text and await _count(runtime) == 2


async def test_an_admin_connects_and_is_not_given_the_account(web, runtime):
    admin = await web(Role.admin)
    answer = await admin.post("/accounts/new/mock", {"handle": "cafe"})
    assert answer.status_code == 303 and await _count(runtime) == 1


# --- who may ---------------------------------------------------------------------------------


async def test_a_moderator_may_not_connect_accounts(web, client, admin, runtime, mastodon):
    account = await make_account(client, admin, handle="first")
    moderator = await web(Role.moderator, [account["id"]])
    for url in ("/accounts/new", "/accounts/new/mastodon", "/accounts/new/mock", "/connect/mastodon/callback?code=c"):
        assert (await moderator.get(url)).status_code == 403, url
    for url, data in (("/accounts/new/mock", {"handle": "sneaky"}), ("/accounts/new/mastodon",
                                                                      {"instance": "social.example"})):
        answer = await moderator.post(url, data)
        assert answer.status_code == 403 and "organizer" in answer.text
    assert await _count(runtime) == 1 and mastodon.apps == {}


async def test_an_organizers_api_token_still_cannot_connect(client, admin, runtime):
    from tests.conftest import make_token

    account = await make_account(client, admin, handle="first")
    headers = await make_token(runtime, Role.organizer, [account["id"]])
    body = {"platform": "mock", "handle": "x", "credentials": {"token": "t"}}
    assert (await client.post("/api/v1/accounts", json=body, headers=headers)).status_code == 403


async def test_a_form_without_the_csrf_token_is_refused(organizer, runtime):
    answer = await organizer.http.post("/accounts/new/mock", data={"handle": "uni_news"})
    assert answer.status_code == 403 and await _count(runtime) == 1


async def test_a_callback_without_a_session_goes_to_sign_in_and_back(runtime, mastodon):
    from app.main import create_app

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(runtime=runtime)),
                                 base_url="http://test") as browser:
        answer = await browser.get("/connect/mastodon/callback?code=c&state=s")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin?next=/connect/mastodon/callback%3Fcode%3Dc%26state%3Ds"
    assert await _count(runtime) == 0 and mastodon.exchanges == []
