"""Rate limits where they belong: each platform's buckets, through the pipeline and the API.

X limits each endpoint on its own, so a 429 on search holds neither retweets nor the other
sources; Mastodon's budget is one per account, so a 429 on a poll holds the sends (and the other
polls) too; when a limit ends, the account shows it at once, whether or not a job ran since.
"""

from datetime import datetime, timedelta

import pytest

from app.accounts import conditions
from tests.api.helpers import API, actions, by_post, make_rule
from tests.api.test_real_platforms import _harness


async def _account(client, admin, h, sources: list[str]) -> dict:
    ctx = h.context()
    body = {"platform": h.name, "handle": ctx.handle, "credentials": ctx.credentials,
            "config": {**ctx.config, "allow_without_consent": True}, "sources": sources}
    response = await client.post(f"{API}/accounts", json=body, headers=admin)
    assert response.status_code == 201, response.text
    await make_rule(client, admin, response.json()["id"], "#coffee")
    return response.json()


async def _shown(client, admin, account_id: int) -> dict:
    response = await client.get(f"{API}/accounts/{account_id}", headers=admin)
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def x(runtime, monkeypatch):
    return _harness("x", runtime, monkeypatch)


@pytest.fixture
def mastodon(runtime, monkeypatch):
    return _harness("mastodon", runtime, monkeypatch)


async def test_an_x_search_limit_holds_neither_retweets_nor_other_sources(client, admin, pipeline, x):
    account = await _account(client, admin, x, ["tag:coffee", "user:coffee_lover"])
    await pipeline.tick()
    x.fake.exhaust("GET", "/2/tweets/search/recent", seconds=900)
    post_id = x.add_post("plain", text="Fresh beans today #coffee")  # by coffee_lover: on both sources

    await pipeline.tick()  # search answers 429; the user timeline finds the post; it is retweeted

    assert x.is_reposted(post_id)
    assert by_post(await actions(client, admin, account["id"]))[post_id]["status"] == "done"
    shown = await _shown(client, admin, account["id"])
    assert shown["status"] == "active" and shown["rate_limited_until"] is None
    [limit] = shown["conditions"]
    assert limit["code"] == "rate_limited:search" and limit["holds"] == "polls" and limit["source"] == "tag:coffee"
    assert limit["until"] and limit["http_status"] == 429
    assert shown["status_detail"].startswith("polling tag:coffee rate limited until")


async def test_a_mastodon_limit_met_by_a_poll_holds_sends_and_polls(client, admin, runtime, pipeline, mastodon):
    runtime.settings.stage_wait_seconds = 60  # the jobs below wait for all their work
    account = await _account(client, admin, mastodon, ["home", "tag:coffee"])
    await pipeline.tick()
    post_id = mastodon.add_post("plain", text="Fresh beans today #coffee")
    await pipeline.poll_tick()  # polled and matched: a repost waits for the sending job
    mastodon.fake.spend_budget(seconds=300)
    await pipeline.poll_tick()  # the next poll meets the account's spent budget: 429

    calls = len(mastodon.fake.exchanges)
    await pipeline.send_tick()
    await pipeline.tick()
    assert len(mastodon.fake.exchanges) == calls  # nothing sent, nothing polled until the limit ends
    assert not mastodon.is_reposted(post_id)
    action = by_post(await actions(client, admin, account["id"]))[post_id]
    assert action["status"] == "queued" and action["attempts"] == 0
    shown = await _shown(client, admin, account["id"])
    assert shown["status"] == "rate_limited" and shown["rate_limited_until"]
    assert [(c["code"], c["holds"]) for c in shown["conditions"]] == [("rate_limited:account", "all")]


async def test_status_is_current_when_a_send_limit_ends(client, admin, pipeline, x, monkeypatch):
    account = await _account(client, admin, x, ["tag:coffee"])
    x.fake.exhaust("POST", "/2/users/1000/retweets", seconds=900)
    post_id = x.add_post("plain", text="Fresh beans today #coffee")
    await pipeline.tick()
    assert not x.is_reposted(post_id)
    shown = await _shown(client, admin, account["id"])
    assert shown["status"] == "rate_limited" and shown["status_detail"].startswith("sends rate limited until")
    [limit] = shown["conditions"]
    assert limit["code"] == "rate_limited:retweets" and limit["holds"] == "sends"
    ends = datetime.fromisoformat(shown["rate_limited_until"])

    later = ends + timedelta(seconds=1)  # the limit has ended; no job has run since
    monkeypatch.setattr(conditions, "utcnow", lambda: later)
    for shown in [await _shown(client, admin, account["id"]),
                  (await client.get(f"{API}/accounts", headers=admin)).json()["items"][0]]:
        assert shown["status"] == "active" and shown["status_detail"] is None
        assert shown["rate_limited_until"] is None and shown["conditions"] == []
