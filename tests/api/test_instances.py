"""Mastodon status ids are each instance's own: status 123 on one server is not status 123 on
another. Posts read on one instance are neither merged with another instance's post of the same id
nor acted on by accounts on other instances (whose servers would boost whatever their 123 is)."""

import httpx
import pytest
from sqlalchemy import select

from app.models import SeenPost
from app.platforms.http import RetryPolicy
from tests.api.helpers import API, actions
from tests.platforms.mastodon.fake_server import FakeMastodon

HOSTS = ("one.example", "two.example")


@pytest.fixture
def instances(runtime, monkeypatch) -> dict[str, FakeMastodon]:
    async def no_wait(self, seconds):
        return None

    monkeypatch.setattr(RetryPolicy, "pause", no_wait)
    fakes = {host: FakeMastodon(base=f"https://{host}") for host in HOSTS}
    runtime.http = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: fakes[r.url.host].handle(r)))
    runtime.settings.first_poll_max_age_seconds = 10**10
    return fakes


async def test_the_same_status_id_on_two_instances_is_two_posts_each_acted_on_at_home(client, admin, pipeline,
                                                                                       instances, runtime):
    accounts = {}
    for host, fake in instances.items():
        body = {"platform": "mastodon", "handle": f"reposter_bot@{host}", "credentials": {"access_token": fake.token},
                "config": {"base_url": f"https://{host}", "allow_without_consent": True}, "sources": ["public"]}
        response = await client.post(f"{API}/accounts", json=body, headers=admin)
        assert response.status_code == 201, response.text
        accounts[host] = response.json()
        rule = {"name": "coffee", "query": "#coffee"}
        assert (await client.post(f"{API}/accounts/{accounts[host]['id']}/rules", json=rule, headers=admin)).is_success
    await pipeline.tick()  # the first polls: empty
    one, two = instances["one.example"], instances["two.example"]
    one.new_status(one.add_account("alice"), "beans #coffee", status_id="777")
    two.new_status(two.add_account("bob"), "leaves #tea", status_id="777")  # same id, another post
    two.new_status(two.add_account("carol"), "crema #coffee", status_id="778")
    await pipeline.tick()
    [action] = await actions(client, admin, accounts["one.example"]["id"])
    assert (action["post_id"], action["status"]) == ("777", "done") and "777" in one.reblogs
    [action] = await actions(client, admin, accounts["two.example"]["id"])
    assert (action["post_id"], action["status"]) == ("778", "done")
    assert "777" not in two.reblogs  # bob's #tea post was never boosted for alice's #coffee one
    async with runtime.sessions() as session:
        keys = set(await session.scalars(select(SeenPost.post_id)))
    assert {"one.example/777", "two.example/777", "two.example/778"} <= keys
