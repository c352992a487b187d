"""XClient: token renewal (expired, or a 401 once), rate limits, X's 200-with-errors answers."""

import asyncio
import time
from datetime import UTC, datetime

import pytest

from app.platforms.base import CredentialsInvalid, PlatformError, RateLimited
from app.platforms.x.client import XClient


async def test_an_expired_token_is_renewed_before_the_call(hx):
    ctx = hx.context(expires_at=int(time.time()) - 10)
    hx.fake.access_token = "access-9"  # X no longer takes the old one either
    async with hx.http() as http:
        body = await XClient(ctx, http).call("GET", "/2/users/me")
    assert body["data"]["username"] == "reposter_acct"
    assert [r.url.path for r in hx.requests] == ["/2/oauth2/token", "/2/users/me"]
    assert ctx.credentials["access_token"] == hx.fake.access_token
    assert hx.credentials_seen == [ctx.credentials]  # handed over to be stored encrypted
    assert ctx.credentials["expires_at"] > time.time() + 7000
    hx.validate_requests()


async def test_an_iso_expiry_is_understood(hx):
    ctx = hx.context(expires_at="2001-01-01T00:00:00Z")
    async with hx.http() as http:
        await XClient(ctx, http).call("GET", "/2/users/me")
    assert hx.requests[0].url.path == "/2/oauth2/token"


async def test_a_401_renews_the_token_once_and_retries(hx):
    ctx = hx.context()
    hx.fake.access_token = "revoked-elsewhere"
    async with hx.http() as http:
        body = await XClient(ctx, http).call("GET", "/2/users/me")
    assert body["data"]["id"] == "1000"
    assert [r.url.path for r in hx.requests] == ["/2/users/me", "/2/oauth2/token", "/2/users/me"]
    assert len(hx.credentials_seen) == 1


async def test_a_401_after_renewal_means_credentials_need_attention(hx):
    ctx = hx.context()
    hx.fail_next(401, times=1)
    hx.fake.refresh_token = "not-ours"
    async with hx.http() as http:
        with pytest.raises(CredentialsInvalid):
            await XClient(ctx, http).call("GET", "/2/users/me")
    assert hx.credentials_seen == []


async def test_without_a_refresh_token_a_401_is_not_retried(hx):
    ctx = hx.context(refresh_token=None)
    hx.fail_next(401)
    async with hx.http() as http:
        with pytest.raises(CredentialsInvalid):
            await XClient(ctx, http).call("GET", "/2/users/me")
    assert len(hx.requests) == 1


async def test_two_clients_of_one_account_renew_only_once(hx):
    """X refresh tokens are single-use: a second renewal with the spent one would lock the account out."""
    ctx_a, ctx_b = hx.context(), hx.context()
    hx.fake.access_token = "revoked"
    async with hx.http() as http:
        await asyncio.gather(
            XClient(ctx_a, http).call("GET", "/2/users/me"), XClient(ctx_b, http).call("GET", "/2/users/me")
        )
    assert [r.url.path for r in hx.requests].count("/2/oauth2/token") == 1
    assert ctx_a.credentials["access_token"] == ctx_b.credentials["access_token"] == hx.fake.access_token


async def test_a_429_honours_x_rate_limit_reset(hx):
    reset = int(time.time()) + 600
    hx.fail_next(429, {"x-rate-limit-limit": "50", "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)})
    async with hx.http() as http:
        with pytest.raises(RateLimited) as info:
            await XClient(hx.context(), http).call("GET", "/2/users/me")
    assert info.value.retry_at == datetime.fromtimestamp(reset, UTC)


async def test_a_short_x_rate_limit_reset_is_waited_out(hx, no_sleep):
    hx.fail_next(429, {"x-rate-limit-reset": str(int(time.time()) + 2)})
    async with hx.http() as http:
        body = await XClient(hx.context(), http).call("GET", "/2/users/me")
    assert body["data"] and no_sleep and 0 < no_sleep[-1] <= 2.5


async def test_me_id_asks_x_when_the_context_does_not_know(hx):
    ctx = hx.context()
    ctx.platform_user_id = None
    async with hx.http() as http:
        assert await XClient(ctx, http).me_id() == "1000"


async def test_app_calls_use_the_bearer_token_and_never_renew(hx):
    ctx = hx.context(bearer_token="wrong")
    async with hx.http() as http:
        with pytest.raises(CredentialsInvalid):
            await XClient(ctx, http).call("GET", "/2/tweets/search/stream/rules", app=True)
    assert [r.url.path for r in hx.requests] == ["/2/tweets/search/stream/rules"]


async def test_platform_errors_keep_their_status(hx):
    async with hx.http() as http:
        with pytest.raises(PlatformError) as info:
            await XClient(hx.context(), http).call("DELETE", "/2/tweets/1")
    assert info.value.status == 404 and not info.value.retryable
