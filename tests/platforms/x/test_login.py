"""PKCE login and token renewal against the fake X token endpoint."""

import base64
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from app.platforms.base import CredentialsInvalid
from app.platforms.x import login
from tests.platforms.harness_x import check_token_request
from tests.platforms.x.fake import CLIENT_ID

REDIRECT = "http://127.0.0.1:8765/callback"


def test_code_challenge_matches_rfc_7636_example():
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert login.code_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_code_verifier_is_fresh_and_within_the_rfc_bounds():
    first, second = login.new_code_verifier(), login.new_code_verifier()
    assert first != second
    assert 43 <= len(first) <= 128
    assert set(first) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def test_authorize_url_asks_for_the_scopes_with_an_s256_challenge():
    request = login.start_login(CLIENT_ID, REDIRECT)
    url = urlsplit(request.url)
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == "https://x.com/i/oauth2/authorize"
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID and query["redirect_uri"] == REDIRECT
    assert query["scope"] == "tweet.read tweet.write users.read follows.read list.read offline.access"
    assert query["code_challenge_method"] == "S256"
    assert query["code_challenge"] == login.code_challenge(request.code_verifier)
    assert query["state"] == request.state


def test_callback_gives_the_code_only_for_our_state():
    assert login.code_from_callback(f"{REDIRECT}?state=s1&code=abc", "s1") == "abc"
    assert login.code_from_callback("state=s1&code=abc", "s1") == "abc"
    with pytest.raises(ValueError, match="state"):
        login.code_from_callback(f"{REDIRECT}?state=other&code=abc", "s1")
    with pytest.raises(ValueError, match="access_denied"):
        login.code_from_callback(f"{REDIRECT}?error=access_denied&state=s1", "s1")


async def test_exchange_code_returns_credentials(hx):
    request = login.start_login(CLIENT_ID, REDIRECT)
    hx.fake.auth_code, hx.fake.auth_challenge = "the-code", login.code_challenge(request.code_verifier)
    code = login.code_from_callback(f"{REDIRECT}?state={request.state}&code=the-code", request.state)
    async with hx.http() as http:
        creds = await login.exchange_code(
            http, code=code, code_verifier=request.code_verifier, client_id=CLIENT_ID, redirect_uri=REDIRECT
        )
    assert creds["access_token"] == hx.fake.access_token
    assert creds["refresh_token"] == hx.fake.refresh_token
    assert creds["client_id"] == CLIENT_ID and "client_secret" not in creds
    assert abs(creds["expires_at"] - (time.time() + 7200)) < 5
    check_token_request(hx.requests[-1])


async def test_a_wrong_verifier_is_refused(hx):
    request = login.start_login(CLIENT_ID, REDIRECT)
    hx.fake.auth_code, hx.fake.auth_challenge = "the-code", login.code_challenge(request.code_verifier)
    async with hx.http() as http:
        with pytest.raises(CredentialsInvalid):
            await login.exchange_code(
                http, code="the-code", code_verifier="not-the-verifier-" * 3, client_id=CLIENT_ID, redirect_uri=REDIRECT
            )


async def test_refresh_rotates_tokens_and_keeps_the_rest(hx):
    old = {"access_token": "access-1", "refresh_token": "refresh-1", "client_id": CLIENT_ID, "bearer_token": "app"}
    async with hx.http() as http:
        fresh = await login.refresh_credentials(http, old)
    assert fresh["access_token"] == "access-2" and fresh["refresh_token"] == "refresh-2"
    assert fresh["bearer_token"] == "app" and fresh["client_id"] == CLIENT_ID
    form = dict(httpx.QueryParams(hx.requests[-1].content.decode()))
    assert form == {"grant_type": "refresh_token", "refresh_token": "refresh-1", "client_id": CLIENT_ID}


async def test_a_confidential_client_authenticates_with_basic(hx):
    old = {"access_token": "a", "refresh_token": "refresh-1", "client_id": CLIENT_ID, "client_secret": "s3cret"}
    async with hx.http() as http:
        fresh = await login.refresh_credentials(http, old)
    sent = hx.requests[-1]
    assert sent.headers["authorization"] == "Basic " + base64.b64encode(f"{CLIENT_ID}:s3cret".encode()).decode()
    assert "client_id" not in dict(httpx.QueryParams(sent.content.decode()))
    assert fresh["client_secret"] == "s3cret"


async def test_a_spent_refresh_token_means_credentials_need_attention(hx):
    async with hx.http() as http:
        with pytest.raises(CredentialsInvalid):
            await login.refresh_credentials(http, {"refresh_token": "refresh-0", "client_id": CLIENT_ID})
        with pytest.raises(CredentialsInvalid):
            await login.refresh_credentials(http, {"access_token": "a"})


async def test_the_interactive_login_a_cli_runs(hx):
    said: list[str] = []

    def browser(prompt: str) -> str:
        """The person: opens the URL, approves, pastes the address X redirected to."""
        url = next(line for line in said if line.startswith("https://x.com/i/oauth2/authorize?"))
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        hx.fake.auth_code, hx.fake.auth_challenge = "code-42", query["code_challenge"]
        return f"  {REDIRECT}?state={query['state']}&code=code-42\n"

    async with hx.http() as http:
        creds = await login.login_interactively(
            http, client_id=CLIENT_ID, redirect_uri=REDIRECT, client_secret="s3cret", ask=browser, say=said.append
        )
    assert creds["access_token"] == hx.fake.access_token and creds["client_secret"] == "s3cret"
    check_token_request(hx.requests[-1])
