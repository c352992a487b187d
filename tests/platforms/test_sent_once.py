"""The one HTTP path never repeats a call that may have acted; the X stream rules look before they add."""

import httpx
import pytest

from app.platforms.base import AccountContext, Author, OutcomeUnknown, PlatformError, Post
from app.platforms.http import PlatformHTTP, RetryPolicy
from app.platforms.mastodon.actions import MastodonActionClient
from app.platforms.x.client import XClient
from app.platforms.x.rules import sync_stream_rules
from tests.platforms.faults import BAD_GATEWAY, RESET
from tests.platforms.harness_x import XHarness
from tests.platforms.mastodon.fake_server import BASE, FakeMastodon


@pytest.fixture(autouse=True)
def slept(monkeypatch) -> list[float]:
    pauses: list[float] = []

    async def fake_pause(self, seconds: float) -> None:
        pauses.append(seconds)

    monkeypatch.setattr(RetryPolicy, "pause", fake_pause)
    return pauses


def _counting(fake: FakeMastodon, *, refuse_connects: int = 0):
    """The fake behind a transport that counts requests and first refuses `refuse_connects` connections."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if len(seen) < refuse_connects:
            seen.append(request)
            raise httpx.ConnectError("connection refused", request=request)
        seen.append(request)
        return fake.handle(request)

    return httpx.AsyncClient(transport=httpx.MockTransport(handler)), seen


def _actions(fake: FakeMastodon, http: httpx.AsyncClient) -> MastodonActionClient:
    ctx = AccountContext(handle="reposter_bot", platform_user_id=fake.me["id"], config={"base_url": BASE},
                         credentials={"access_token": fake.token})
    return MastodonActionClient(ctx, http)


@pytest.mark.parametrize("fault", [RESET, BAD_GATEWAY])
async def test_a_post_that_may_have_acted_is_not_repeated_but_settled(fault):
    fake = FakeMastodon(boost_per_call=True)
    post = fake.new_status(fake.add_account("alice"), "hello #coffee")
    http, seen = _counting(fake)
    actions = _actions(fake, http)
    target = _post(post["id"])
    fake.after_acting.arm(fault)

    with pytest.raises(OutcomeUnknown):
        await actions.repost(target)

    assert [r.method for r in seen if r.url.path.endswith("/reblog")] == ["POST"]
    assert len(fake.boosts_of(post["id"])) == 1
    assert await actions.find_own(target, "repost") == post["id"]


def _post(status_id: str) -> Post:
    return Post(platform="mastodon", id=status_id, author=Author(id="1", handle="alice"))


async def test_a_refused_connection_is_retried_in_place_and_never_slept_after_the_last_try(slept):
    fake = FakeMastodon()
    post = fake.new_status(fake.add_account("alice"), "hello #coffee")
    http, seen = _counting(fake, refuse_connects=2)
    actions = _actions(fake, http)

    boost = await actions.repost(_post(post["id"]))  # nothing left: safe to retry

    assert fake.reblogs == {post["id"]: boost} and len(seen) == 3 and len(slept) == 2
    http, seen = _counting(fake, refuse_connects=5)
    slept.clear()
    with pytest.raises(PlatformError):
        await PlatformHTTP(http, BASE, platform="mastodon").request("GET", "/api/v1/timelines/home")
    assert len(seen) == 3 and len(slept) == 2  # three tries, two pauses between them, none after


async def test_a_get_that_failed_after_sending_is_retried_in_place():
    fake = FakeMastodon()
    fake.fail_next(502)
    http, seen = _counting(fake)
    response = await PlatformHTTP(http, BASE, platform="mastodon").request(
        "GET", "/api/v1/accounts/verify_credentials", headers={"Authorization": f"Bearer {fake.token}"})
    assert response.status_code == 200 and len(seen) == 2


async def test_stream_rules_added_with_a_lost_answer_are_looked_up_not_added_again():
    h = XHarness("tweet")
    client = XClient(h.context(), h.http())
    h.fake.after_acting.arm(RESET)

    result = await sync_stream_rules(client, ["#coffee", "#tea"])

    values = sorted(rule["value"] for rule in h.fake.rules.values())
    assert values == ["#coffee", "#tea"] and sorted(result.rules.values()) == values
    adds = [r for r in h.fake.requests if r.method == "POST" and b'"add"' in r.content]
    assert len(adds) == 1
