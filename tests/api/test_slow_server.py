"""One slow server never stalls the others: accounts on other servers are polled and served in
the same ticks while one server hangs, and the hanging server's work is abandoned within its
budget and recorded on its own source or action.

Three accounts, each on its own fake server behind one HTTP client: Mastodon on slow.example,
Mastodon on ok.example and X on api.x.com. The slow server is made to hang (it never answers)
after the accounts are connected.
"""

import asyncio
import weakref

import httpx
import pytest
from sqlalchemy import select

from app.models import Action, Cursor
from app.platforms.http import RetryPolicy
from app.platforms.mock.world import get_world
from tests.api.helpers import API, actions, make_account, make_rule
from tests.platforms.harness_x import XHarness
from tests.platforms.mastodon.fake_server import FakeMastodon

# A guard, not a measure: before concurrency and budgets a tick with a hanging server never ended.
GUARD = 60


class Servers:
    """Fake servers by host behind one transport; `hang` makes a host (or one method on it) never answer."""

    def __init__(self) -> None:
        self.mastodon = {host: FakeMastodon(base=f"https://{host}") for host in ("slow.example", "ok.example")}
        self.x = XHarness("post")
        self.hang: dict[str, set[str]] = {}
        self.seen: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        host = request.url.host
        if request.method in self.hang.get(host, ()):
            await asyncio.Event().wait()  # a server that accepted the connection and never answers
        if host == "api.x.com":
            return self.x.fake(request)
        return self.mastodon[host].handle(request)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self))

    def timeline_requests(self, host: str) -> int:
        return sum(1 for r in self.seen if r.url.host == host and "/timelines/" in r.url.path)


@pytest.fixture
def servers(runtime, monkeypatch) -> Servers:
    async def no_wait(self, seconds):
        return None

    monkeypatch.setattr(RetryPolicy, "pause", no_wait)
    from app.platforms import authorized

    monkeypatch.setattr(authorized, "_accounts", weakref.WeakValueDictionary())
    s = Servers()
    runtime.http = s.client()
    runtime.settings.first_poll_max_age_seconds = 10**10
    return s


async def _connect(client, admin, servers: Servers) -> dict[str, dict]:
    """One account per server, each with a #coffee rule."""
    accounts = {}
    for host, fake in servers.mastodon.items():
        body = {"platform": "mastodon", "handle": f"reposter_bot@{host}", "credentials": {"access_token": fake.token},
                "config": {"base_url": f"https://{host}", "allow_without_consent": True}, "sources": ["tag:coffee"],
                "stop_words": {"enabled": False}}  # one source per account: its mentions are not read
        accounts[host] = await _create(client, admin, body)
    ctx = servers.x.context()
    body = {"platform": "x", "handle": ctx.handle, "credentials": ctx.credentials,
            "config": {**ctx.config, "allow_without_consent": True}, "sources": ["tag:coffee"],
            "stop_words": {"enabled": False}}
    accounts["api.x.com"] = await _create(client, admin, body)
    for account in accounts.values():
        await make_rule(client, admin, account["id"], "#coffee")
    return accounts


async def _create(client, admin, body) -> dict:
    response = await client.post(f"{API}/accounts", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()


def _post(servers: Servers, host: str, text: str) -> str:
    if host == "api.x.com":
        return servers.x.add_post("plain", text=text)
    fake = servers.mastodon[host]
    return fake.new_status(fake.add_account("alice"), f"{text} @alice")["id"]


def _reposted(servers: Servers, host: str, post_id: str) -> bool:
    if host == "api.x.com":
        return servers.x.is_reposted(post_id)
    return post_id in servers.mastodon[host].reblogs


async def _tick(pipeline):
    async with asyncio.timeout(GUARD):
        return await pipeline.tick()


async def test_a_hanging_server_delays_only_its_own_accounts(client, admin, runtime, pipeline, servers):
    runtime.settings.poll_budget_seconds = runtime.settings.send_budget_seconds = 0.5
    accounts = await _connect(client, admin, servers)
    await _tick(pipeline)  # first polls: every source has its starting point
    servers.hang["slow.example"] = {"GET", "POST"}
    posts = {host: _post(servers, host, f"beans from {host} #coffee") for host in accounts}

    await _tick(pipeline)

    for host in ("ok.example", "api.x.com"):  # polled, matched and reposted in the same tick
        assert _reposted(servers, host, posts[host]), host
        [done] = await actions(client, admin, accounts[host]["id"], status="done")
        assert done["post_id"] == posts[host]
    async with runtime.sessions() as session:
        slow = (await session.scalars(select(Cursor).where(Cursor.account_id == accounts["slow.example"]["id"]))).one()
    assert "abandoned" in slow.error and slow.error_count == 1  # recorded as the source's failure
    assert slow.lease_owner is None  # and given back


async def test_a_send_that_hangs_is_abandoned_and_the_other_accounts_sends_go_out(client, admin, runtime, pipeline,
                                                                                  servers):
    runtime.settings.poll_budget_seconds = runtime.settings.send_budget_seconds = 0.5
    accounts = await _connect(client, admin, servers)
    await _tick(pipeline)
    servers.hang["slow.example"] = {"POST"}  # answers polls, never answers a boost
    posts = {host: _post(servers, host, f"more beans from {host} #coffee") for host in accounts}

    await _tick(pipeline)

    for host in ("ok.example", "api.x.com"):
        assert _reposted(servers, host, posts[host]), host
    # Mastodon posts are one platform's: the slow account's #coffee rule matched both instances'
    # posts. Its first send was abandoned; the others were given back for a later round rather
    # than each waiting out a budget.
    slow = await actions(client, admin, accounts["slow.example"]["id"])
    assert posts["slow.example"] in {a["post_id"] for a in slow}
    [abandoned] = [a for a in slow if a["status"] == "failed"]
    assert "abandoned" in abandoned["error"] and abandoned["next_attempt_at"]  # tried again later
    assert {a["status"] for a in slow if a is not abandoned} <= {"queued"}
    async with runtime.sessions() as session:
        leased = await session.scalars(select(Action.id).where(Action.lease_owner.is_not(None)))
    assert list(leased) == []  # every row given back


async def test_the_jobs_never_wait_for_a_hanging_poll(client, admin, runtime, pipeline, servers):
    """With the scheduler's jobs, work still running when a job stops waiting goes on in the
    background; later runs serve the other accounts and leave the busy one alone."""
    runtime.settings.poll_budget_seconds = 100.0  # longer than this test: the poll really hangs
    runtime.settings.stage_wait_seconds = 0.2
    accounts = await _connect(client, admin, servers)
    await _tick(pipeline)
    servers.hang["slow.example"] = {"GET", "POST"}
    before = servers.timeline_requests("slow.example")
    ok_post = _post(servers, "ok.example", "late beans #coffee")
    try:
        async with asyncio.timeout(GUARD):
            for _ in range(100):
                await pipeline.poll_tick()
                await pipeline.send_tick()
                if _reposted(servers, "ok.example", ok_post):
                    break
                await asyncio.sleep(0.05)
        assert _reposted(servers, "ok.example", ok_post)
        assert accounts["slow.example"]["id"] in pipeline.fanout.busy("poll")  # still hanging
        assert servers.timeline_requests("slow.example") == before + 1  # and never asked twice meanwhile
    finally:
        await pipeline.close()


async def test_many_accounts_at_once_keep_the_database_consistent(client, admin, runtime, pipeline):
    """Concurrent polls and sends on one database (SQLite too: no "database is locked")."""
    runtime.settings.max_calls_per_host = 16
    world = get_world("default")
    world.stall_seconds = 0.02  # every call takes a little while, so that they overlap
    accounts = [await make_account(client, admin, f"shop{i}", sources=["tag:coffee"]) for i in range(12)]
    for account in accounts:
        await make_rule(client, admin, account["id"], "#coffee")
    await pipeline.tick()
    post = world.publish("alice", "fresh #coffee")
    report = await pipeline.tick()
    assert report.sent == len(accounts)
    for account in accounts:
        [done] = await actions(client, admin, account["id"], status="done")
        assert done["post_id"] == post.id
    assert all((a["handle"].lower(), post.id) in world.reposts for a in accounts)
