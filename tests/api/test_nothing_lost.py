"""Nothing lost, end to end: each real adapter through the API and the pipeline, against fake servers
that play how real servers differ (an empty start then a burst, tags a server ignores, a followers
list a server hides, a server without streaming)."""

import asyncio

import pytest

from app.pipeline.relations import refresh_due
from app.pipeline.streamer import Streamer
from tests.api.helpers import API, actions
from tests.api.test_real_platforms import REAL, _harness


@pytest.fixture(params=REAL)
def harness(request, runtime, monkeypatch):
    return _harness(request.param, runtime, monkeypatch)


def server(h):
    """The harness's fake server (Mastodon and X call it `fake`, Bluesky `server`)."""
    return getattr(h, "fake", None) or h.server


async def connect(client, admin, h, *, sources=None, **config) -> dict:
    ctx = h.context()
    body = {"platform": h.name, "handle": ctx.handle, "credentials": ctx.credentials,
            "config": {**ctx.config, "allow_without_consent": True, **config},
            "sources": [h.source] if sources is None else sources}
    response = await client.post(f"{API}/accounts", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()


async def rule(client, admin, account_id: int, query: str, **extra) -> None:
    body = {"name": query, "query": query, **extra}
    response = await client.post(f"{API}/accounts/{account_id}/rules", json=body, headers=admin)
    assert response.status_code == 201, response.text


async def conditions(client, admin, account_id: int) -> dict[str, dict]:
    response = await client.get(f"{API}/accounts/{account_id}", headers=admin)
    assert response.status_code == 200, response.text
    return {c["code"]: c for c in response.json()["conditions"]}


async def test_a_burst_after_an_empty_first_poll_gets_an_action_for_every_post(client, admin, pipeline, runtime,
                                                                                harness):
    """Seen on a real server: the first poll found nothing, then 100 posts came and 40 were kept."""
    runtime.settings.poll_interval_seconds = 0.001  # every tick polls again
    account = await connect(client, admin, harness)
    await rule(client, admin, account["id"], "#coffee")
    await pipeline.tick()  # the source's first poll: an empty timeline
    burst = [harness.add_post("plain", text=f"burst {i} #coffee") for i in range(25)]  # 13 pages of 2
    for _ in range(4):
        await pipeline.tick()
    acted = [a["post_id"] for a in await actions(client, admin, account["id"])]
    assert sorted(acted) == sorted(burst)
    harness.validate_requests()


async def test_a_followers_list_the_server_leaves_empty_is_shown_on_the_account(client, admin, pipeline, runtime,
                                                                                harness):
    server(harness).followers_hidden = True  # the account reports followers; the endpoint lists nobody
    account = await connect(client, admin, harness)
    await rule(client, admin, account["id"], "#coffee", scope="followers")
    harness.add_post("plain", text="for followers #coffee")
    await pipeline.tick()
    found = await conditions(client, admin, account["id"])
    assert found["followers_empty"]["severity"] == "warning"
    assert "lists no followers" in found["followers_empty"]["message"]
    server(harness).followers_hidden = False
    harness.set_followers(["alice"])
    await refresh_due(runtime, max_age_seconds=0)  # the next scheduled refresh of the relation
    assert "followers_empty" not in await conditions(client, admin, account["id"])


@pytest.fixture
def mastodon(runtime, monkeypatch):
    return _harness("mastodon", runtime, monkeypatch)


async def test_every_rule_tag_is_watched_on_a_server_that_ignores_any(client, admin, pipeline, mastodon):
    fake = mastodon.fake
    fake.version, fake.ignores_any = "takahe/0.11.0", True
    account = await connect(client, admin, mastodon, sources=[])  # sources derived from the rules
    await rule(client, admin, account["id"], "#coffee OR #tea")
    await pipeline.tick()
    alice = fake.add_account("alice")
    posts = [fake.new_status(alice, f"a cup of #{tag}")["id"] for tag in ("coffee", "tea")]
    await pipeline.tick()
    acted = [a["post_id"] for a in await actions(client, admin, account["id"])]
    assert sorted(acted) == sorted(posts)


async def test_a_server_without_streaming_shows_on_the_account_and_polling_carries_the_feed(
    client, admin, pipeline, runtime, mastodon
):
    mastodon.fake.streaming = False  # GET /api/v1/streaming/... answers 404 (Takahē)
    account = await connect(client, admin, mastodon, stream=True)
    await rule(client, admin, account["id"], "#coffee")
    streamer = Streamer(runtime)
    try:
        await streamer.sync()
        task = streamer.tasks[account["id"]]
        await asyncio.wait_for(task, timeout=30)  # it stops by itself rather than retrying for ever
        found = await conditions(client, admin, account["id"])
        assert found["stream"]["severity"] == "warning" and found["stream"]["http_status"] == 404
        assert "HTTP 404" in found["stream"]["message"] and "/api/v1/streaming/user" in found["stream"]["message"]
        await streamer.sync()
        assert account["id"] not in streamer.tasks  # not started again while the refusal is fresh
    finally:
        await streamer.stop()
    post = mastodon.add_post("plain", text="polled #coffee")
    await pipeline.tick()
    assert [a["post_id"] for a in await actions(client, admin, account["id"], status="done")] == [post]
    response = await client.get(f"{API}/accounts/{account['id']}", headers=admin)
    assert response.json()["status"] == "active"


async def test_the_mock_reads_a_burst_after_an_empty_first_poll_whole(client, admin, pipeline, runtime):
    from tests.api.helpers import make_account, make_rule, world

    runtime.settings.poll_interval_seconds = 0.001
    account = await make_account(client, admin, sources=["tag:coffee"])
    await make_rule(client, admin, account["id"], "#coffee")
    await pipeline.tick()  # an empty first poll
    burst = [world().publish("alice", f"burst {i} #coffee").id for i in range(100)]
    await pipeline.tick()
    acted = [a["post_id"] for a in await actions(client, admin, account["id"])]
    assert sorted(acted) == sorted(burst)
