"""`reposter mastodon login`: register an app, authorize, exchange the code, connect."""

from __future__ import annotations

import json

import httpx
import pytest

from app.platforms.base import CredentialsInvalid, PlatformError
from app.platforms.mastodon.login import OOB_REDIRECT, SCOPES, exchange_code, pkce_pair, start_login
from app.platforms.mastodon.platform import MastodonPlatform
from tests.platforms.mastodon.conftest import context
from tests.platforms.mastodon.fake_server import BASE


async def test_start_login_registers_an_app_and_builds_the_authorize_url(fake, contract):
    login = await start_login(fake.client(), "social.example/")
    assert login.instance == BASE
    (register,) = [ex.request for ex in fake.exchanges]
    assert str(register.url) == f"{BASE}/api/v1/apps"
    assert json.loads(register.content) == {"client_name": "reposter", "redirect_uris": OOB_REDIRECT, "scopes": SCOPES}
    url = httpx.URL(login.authorize_url)
    assert f"{url.scheme}://{url.host}{url.path}" == f"{BASE}/oauth/authorize"
    assert url.params["client_id"] == login.client_id == "client-1"
    assert url.params["response_type"] == "code"
    assert url.params["redirect_uri"] == OOB_REDIRECT
    assert url.params["scope"] == SCOPES
    assert url.params["code_challenge_method"] == "S256" and url.params["code_challenge"]
    fake.validate(contract)


async def test_the_code_becomes_a_token_that_connects(fake, contract):
    http = fake.client()
    login = await start_login(http, BASE)
    code = fake.authorize(login.authorize_url)
    token = await exchange_code(http, login, f" {code}\n")
    assert token.access_token == fake.token
    assert token.credentials() == {"access_token": fake.token}
    ctx = context(fake)
    ctx.credentials = token.credentials()
    account = await MastodonPlatform().connect(ctx, http)
    assert account.handle == "reposter_bot@social.example"
    fake.validate(contract)
    contract.check_request(httpx.Request("GET", login.authorize_url))  # the URL the owner opens


async def test_a_wrong_code_is_a_clear_error(fake):
    http = fake.client()
    login = await start_login(http, BASE)
    fake.authorize(login.authorize_url, code="right")
    with pytest.raises(PlatformError, match="authorization grant is invalid") as info:
        await exchange_code(http, login, "wrong")
    assert info.value.retryable is False


async def test_a_verifier_that_does_not_match_the_challenge_is_refused(fake):
    http = fake.client()
    login = await start_login(http, BASE)
    code = fake.authorize(login.authorize_url)
    forged = type(login)(**{**login.__dict__, "code_verifier": pkce_pair()[0]})
    with pytest.raises(PlatformError, match="invalid"):
        await exchange_code(http, forged, code)


async def test_a_wrong_client_secret_is_credentials_invalid(fake):
    http = fake.client()
    login = await start_login(http, BASE)
    code = fake.authorize(login.authorize_url)
    forged = type(login)(**{**login.__dict__, "client_secret": "nope"})
    with pytest.raises(CredentialsInvalid):
        await exchange_code(http, forged, code)

