"""The parts every adapter shares: one retry loop, and token renewal once per account at a time."""

import asyncio
import gc
import time

import pytest

from app.platforms import authorized
from app.platforms.base import CredentialsInvalid, PlatformError, RateLimited
from app.platforms.bluesky.config import load_config
from app.platforms.bluesky.xrpc import XrpcClient
from app.platforms.http import RetryPolicy, TryAgain
from app.platforms.mock.platform import call
from app.platforms.mock.world import reset_world
from app.platforms.x.client import XClient
from tests.platforms.harness_bluesky import BlueskyHarness, fake_jwt
from tests.platforms.harness_x import XHarness


def counting_policy() -> tuple[RetryPolicy, list[float]]:
    """A RetryPolicy whose sleep records what it would have slept instead of sleeping."""
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    return RetryPolicy(sleep=sleep), slept


# ---- one retry loop ------------------------------------------------------------------------
async def test_an_exhausted_loop_raises_the_last_error_without_a_final_pause():
    policy, slept = counting_policy()
    tries: list[int] = []

    async def failing() -> None:
        tries.append(1)
        raise TryAgain(PlatformError(f"try {len(tries)}", status=503))

    with pytest.raises(PlatformError, match="try 3"):
        await policy.run(failing)
    assert len(tries) == 3 and slept == [0.5, 1.0]


async def test_a_short_429_on_the_last_try_raises_rate_limited_at_once():
    policy, slept = counting_policy()
    world = reset_world("retry")
    world.fail_next(429, {"Retry-After": "1"}, times=3)
    with pytest.raises(RateLimited):
        await call(world, lambda: "acted", policy)
    assert len(slept) == 2 and world.calls == 3


async def test_the_mock_retries_a_5xx_through_the_same_loop_and_then_acts():
    policy, slept = counting_policy()
    world = reset_world("retry")
    world.fail_next(503, times=2)
    assert await call(world, lambda: "acted", policy) == "acted"
    assert slept == [0.5, 1.0] and world.calls == 3


# ---- token renewal: once per account, across every concurrent call -------------------------
async def test_concurrent_calls_of_one_account_renew_its_token_once():
    h = XHarness("tweet")
    contexts = [h.context(expires_at=int(time.time()) - 10) for _ in range(4)]
    async with h.http() as http:
        shared = XClient(contexts[0], http)
        calls = [shared.call("GET", "/2/users/me") for _ in range(3)]
        calls += [XClient(ctx, http).call("GET", "/2/users/me") for ctx in contexts[1:]]
        await asyncio.gather(*calls)
    assert [r.url.path for r in h.requests].count("/2/oauth2/token") == 1
    assert {ctx.credentials["access_token"] for ctx in contexts} == {h.fake.access_token}
    assert len(h.credentials_seen) == 1  # stored once, by the client that renewed


async def test_each_account_renews_its_own_token():
    first, second = XHarness("tweet"), XHarness("tweet")
    async with first.http() as http_1, second.http() as http_2:
        await asyncio.gather(
            XClient(first.context(expires_at=0), http_1).call("GET", "/2/users/me"),
            XClient(second.context(expires_at=0), http_2).call("GET", "/2/users/me"),
        )
    assert [r.url.path for r in first.requests + second.requests].count("/2/oauth2/token") == 2


async def test_concurrent_bluesky_clients_of_one_account_refresh_the_session_once():
    h = BlueskyHarness()
    stale = fake_jwt(h.server.me, time.time() - 5)
    h.server.access.add(stale)
    h.credentials["access_jwt"] = stale
    contexts = [h.context() for _ in range(3)]
    async with h.http() as http:
        clients = [XrpcClient(ctx, http, load_config(ctx)) for ctx in contexts]
        await asyncio.gather(*(c.query("app.bsky.actor.getProfile", {"actor": h.server.me}) for c in clients))
    assert h.server.refreshes == 1 and h.server.logins == 0
    assert len({ctx.credentials["access_jwt"] for ctx in contexts}) == 1


async def test_a_renewal_reaches_a_later_client_only_while_it_is_kept(monkeypatch):
    """A client made from the row before the renewal was saved takes the new tokens; once they
    are forgotten and no client is left, nothing in the process holds them."""
    h = XHarness("tweet")

    async def renew_then_use_the_old_tokens() -> None:
        first = h.context(expires_at=int(time.time()) - 10)
        spent = dict(first.credentials)
        await XClient(first, http).call("GET", "/2/users/me")  # renews (the first client is then gone)
        await asyncio.sleep(0.01)  # time for a timer of RENEWAL_KEPT = 0 to fire
        gc.collect()
        later = h.context(**spent)  # made from the row before the renewal was saved
        await XClient(later, http).call("GET", "/2/users/me")
        assert later.credentials["access_token"] == h.fake.access_token

    async with h.http() as http:
        await renew_then_use_the_old_tokens()
        assert [r.url.path for r in h.requests].count("/2/oauth2/token") == 1  # the renewal was handed over

        monkeypatch.setattr(authorized, "RENEWAL_KEPT", 0.0)
        with pytest.raises(CredentialsInvalid):  # wiped: the spent refresh token is sent, X refuses it
            await renew_then_use_the_old_tokens()
        assert [r.url.path for r in h.requests].count("/2/oauth2/token") == 3
        assert f"x:{h.account_id}" not in authorized._accounts  # no client left, nothing kept
