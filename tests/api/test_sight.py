"""Every failure in sight: what the API shows when a platform is down, hangs, refuses the token,
rate-limits a poll or drops the stream (issue 9, section 6)."""

import asyncio
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from app.db.session import transaction
from app.models import Action
from app.pipeline.source_health import describe
from app.pipeline.streamer import Streamer
from app.platforms.http import RetryPolicy
from tests.api.helpers import API, ingest, make_account, make_rule, world
from tests.api.test_real_platforms import REAL, _connect, _harness


class FaultProxy(httpx.AsyncBaseTransport):
    """A proxy in front of a platform's fake server, as in the fault runs: it passes requests
    through, or answers for a server that is down, hangs, has revoked the token or rate-limits."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.mode: str | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.mode == "hang":  # what httpx raises when the server sends nothing before its read timeout
            raise httpx.ReadTimeout("timed out", request=request)
        answers = {"outage": (503, {"error": "Service Unavailable"}, {}),
                   "revoked": (401, {"error": "The access token was revoked"}, {}),
                   "limited": (429, {"error": "Too many requests"}, {"Retry-After": "900"})}
        if self.mode == "garbage":  # a 200 whose body is not what the documentation promises
            return httpx.Response(200, json={"unexpected": True}, request=request)
        if self.mode in answers:
            status, body, headers = answers[self.mode]
            return httpx.Response(status, json=body, headers=headers, request=request)
        return await self.inner.handle_async_request(request)


def _proxied(name, runtime, monkeypatch):
    harness = _harness(name, runtime, monkeypatch)
    proxy = FaultProxy(harness.http()._transport)
    runtime.http = httpx.AsyncClient(transport=proxy)
    return harness, proxy


@pytest.fixture(params=REAL)
def proxied(request, runtime, monkeypatch):
    return _proxied(request.param, runtime, monkeypatch)


@pytest.fixture
def mastodon(runtime, monkeypatch):
    return _proxied("mastodon", runtime, monkeypatch)


async def _get(client, admin, path):
    response = await client.get(f"{API}{path}", headers=admin)
    assert response.status_code == 200, response.text
    return response.json()


async def _source(client, admin, account_id, source):
    [row] = [s for s in await _get(client, admin, f"/accounts/{account_id}/sources") if s["source"] == source]
    return row


async def test_a_failing_source_shows_its_last_error_and_count_and_raises_the_condition(client, admin, pipeline,
                                                                                        proxied):
    harness, proxy = proxied
    account = await _connect(client, admin, harness)
    code = f"source:{harness.source}"
    proxy.mode = "outage"
    for n in (1, 2, 3):
        await pipeline.tick()
        row = await _source(client, admin, account["id"], harness.source)
        assert row["consecutive_failures"] == n and row["state"] == "failing", row
        conditions = {c["code"] for c in (await _get(client, admin, f"/accounts/{account['id']}"))["conditions"]}
        assert (code in conditions) == (n == 3), conditions  # the threshold is 3 failures in a row
    error = row["last_error"]
    assert error["kind"] == "http" and error["http_status"] == 503 and "503" in error["message"] and error["at"]
    assert row["last_success_at"] is None and row["error_count"] == 3 and row["wanted"]
    shown = await _get(client, admin, f"/accounts/{account['id']}")
    [condition] = [c for c in shown["conditions"] if c["code"] == code]
    assert condition["severity"] == "warning" and condition["http_status"] == 503 and "503" in condition["message"]
    assert shown["status"] == "active" and "503" in shown["status_detail"]  # never again active with no detail
    health = await _get(client, admin, f"/accounts/{account['id']}/health")
    assert [w["code"] for w in health["warnings"]] == [code] and health["sources"][0]["consecutive_failures"] == 3

    proxy.mode = None
    await pipeline.tick()
    row = await _source(client, admin, account["id"], harness.source)
    assert row["state"] == "ok" and row["consecutive_failures"] == 0 and row["last_success_at"]
    assert row["last_error"]["http_status"] == 503  # the last error stays readable after the source mends
    shown = await _get(client, admin, f"/accounts/{account['id']}")
    assert code not in {c["code"] for c in shown["conditions"]} and shown["status_detail"] is None


async def test_a_hanging_server_is_shown_as_a_timeout(client, admin, pipeline, proxied):
    harness, proxy = proxied
    account = await _connect(client, admin, harness)
    proxy.mode = "hang"
    await pipeline.tick()
    row = await _source(client, admin, account["id"], harness.source)
    assert row["last_error"]["kind"] == "timeout" and row["last_error"]["http_status"] is None
    assert "ReadTimeout" in row["last_error"]["message"] and row["consecutive_failures"] == 1


async def test_an_answer_the_adapter_cannot_read_says_so(client, admin, pipeline, mastodon):
    harness, proxy = mastodon
    account = await _connect(client, admin, harness)
    proxy.mode = "garbage"
    await pipeline.tick()
    row = await _source(client, admin, account["id"], harness.source)
    error = row["last_error"]
    assert error["kind"] == "platform" and error["http_status"] is None and "expected a list" in error["message"]
    assert row["consecutive_failures"] == 1 and row["poll_count"] == 1


def test_failures_outside_the_platform_error_family_are_named_by_what_they_are():
    assert describe(TimeoutError())[0] == "timeout"  # a time budget around the call (asyncio.timeout)
    assert describe(ConnectionResetError("reset by peer"))[0] == "transport"
    kind, status, message = describe(KeyError("statuses"))
    assert kind == "internal" and status is None and "KeyError" in message  # our adapter's bug, said so


async def test_a_revoked_token_says_why_the_account_needs_attention(client, admin, pipeline, mastodon):
    harness, proxy = mastodon
    account = await _connect(client, admin, harness)
    proxy.mode = "revoked"
    await pipeline.tick()
    health = await _get(client, admin, f"/accounts/{account['id']}/health")
    assert health["status"] == "needs_attention"
    [why] = health["needs_attention"]
    assert why["code"] == "credentials" and why["http_status"] == 401 and "revoked" in why["message"]
    assert health["sources"][0]["last_error"]["kind"] == "credentials"


async def test_a_rate_limited_poll_shows_its_bucket_and_reset_time(client, admin, pipeline, mastodon):
    """Mastodon's budget is shared per account: a poll meeting it holds the sends too, and says so."""
    harness, proxy = mastodon
    account = await _connect(client, admin, harness)
    proxy.mode = "limited"
    await pipeline.tick()
    health = await _get(client, admin, f"/accounts/{account['id']}/health")
    [limit] = health["rate_limits"]
    assert limit["bucket"] == "account" and limit["holds"] == "all" and limit["until"] and limit["holds_sends"]
    source = health["sources"][0]
    assert source["last_error"]["kind"] == "rate_limited" and source["last_error"]["http_status"] == 429
    assert source["next_poll_at"] == limit["until"] and health["status"] == "rate_limited"


async def _stream_state(client, admin, account_id, want):
    for _ in range(300):
        stream = (await _get(client, admin, f"/accounts/{account_id}/health"))["stream"]
        if want(stream):
            return stream
        await asyncio.sleep(0.02)
    raise AssertionError(stream)


@pytest.mark.parametrize("name", ["mastodon", "x"])
async def test_a_dropped_stream_shows_reconnecting_with_its_error_then_connected(client, admin, runtime, monkeypatch,
                                                                                name):
    harness, proxy = _proxied(name, runtime, monkeypatch)

    async def short_wait(self, seconds):  # the adapter's backoff, shortened (not skipped: it must yield)
        await asyncio.sleep(0.01)

    monkeypatch.setattr(RetryPolicy, "pause", short_wait)
    account = await _connect(client, admin, harness, stream=True)
    assert (await _get(client, admin, f"/accounts/{account['id']}/health"))["stream"]["state"] == "starting"
    proxy.mode = "outage"
    streamer = Streamer(runtime)
    try:
        await streamer.sync()
        stream = await _stream_state(client, admin, account["id"], lambda s: s["state"] == "reconnecting")
        assert stream["last_error"]["http_status"] == 503 and stream["failures"] >= 1 and "503" in stream["message"]
        outage_at = datetime.fromisoformat(stream["last_error"]["at"])
        if name == "x":  # X's fake serves the connections it is given (then refuses): a few, of keep-alives
            harness.fake.stream_connections = [["", ""] for _ in range(20)]
        proxy.mode = None
        stream = await _stream_state(client, admin, account["id"], lambda s: s["connected_at"] is not None)
        assert datetime.fromisoformat(stream["connected_at"]) > outage_at  # it opened after the outage
    finally:
        await streamer.stop()


async def test_stream_off_and_unavailable_are_told_apart(client, admin, runtime):
    polling = await make_account(client, admin, handle="polls")
    assert (await _get(client, admin, f"/accounts/{polling['id']}/health"))["stream"]["state"] == "off"
    pushing = await make_account(client, admin, handle="pushes", config={"stream": True})
    streamer = Streamer(runtime)
    try:
        await streamer.sync()  # the mock platform has no push
        stream = await _stream_state(client, admin, pushing["id"], lambda s: s["state"] == "unavailable")
        assert "polling" in stream["message"]
    finally:
        await streamer.stop()


async def test_health_of_a_quiet_account_lists_nothing_wrong(client, admin):
    account = await make_account(client, admin, sources=["public"])
    health = await _get(client, admin, f"/accounts/{account['id']}/health")
    assert health["needs_attention"] == [] and health["warnings"] == [] and health["rate_limits"] == []
    assert [(s["source"], s["state"]) for s in health["sources"]] == [("public", "never_polled")]
    assert health["actions_waiting"] == 0 and health["oldest_waiting_since"] is None
    assert (await client.get(f"{API}/accounts/999999/health", headers=admin)).status_code == 404


async def test_metrics_count_accounts_failing_sources_and_the_oldest_waiting_action(client, admin, pipeline, proxied):
    harness, proxy = proxied
    account = await _connect(client, admin, harness, allow_without_consent=True)
    await client.post(f"{API}/accounts/{account['id']}/rules", json={"name": "c", "query": "#coffee"}, headers=admin)
    await pipeline.tick()
    before = (await client.get("/metrics")).text
    assert f'reposter_accounts{{enabled="true",platform="{harness.name}",status="active"}} 1.0' in before
    assert f'reposter_sources{{platform="{harness.name}"}} 1.0' in before
    assert "reposter_sources_failing{" not in before
    proxy.mode = "outage"
    harness.add_post("plain", text="Fresh beans today #coffee")
    for _ in range(3):
        await pipeline.tick()
    text = (await client.get("/metrics")).text
    assert f'reposter_sources_failing{{kind="http",platform="{harness.name}"}} 1.0' in text
    assert f'reposter_source_consecutive_failures_max{{platform="{harness.name}"}} 3.0' in text
    assert f'reposter_account_conditions{{code="source",platform="{harness.name}",severity="warning"}} 1.0' in text
    ready = (await client.get("/readyz")).json()
    assert ready["status"] == "ready" and ready["accounts"] == {"not_active": 0, "with_failing_sources": 1}


async def test_metrics_show_how_long_the_oldest_due_action_has_waited(client, admin, pipeline, runtime):
    account = await make_account(client, admin)
    await make_rule(client, admin, account["id"], "#coffee")
    world().add_author("alice", followers_count=50)
    await ingest(client, admin, [world().publish("alice", "hi #coffee")])
    await pipeline.match_all()  # queued, not sent: as behind a hanging server
    async with transaction(runtime.sessions) as session:
        [action] = (await session.scalars(select(Action))).all()
        action.created_at -= timedelta(days=2)  # due two days ago and still not sent
        action.next_attempt_at = created = action.created_at
    text = (await client.get("/metrics")).text
    line = next(x for x in text.splitlines() if x.startswith('reposter_oldest_waiting_action_seconds{platform="mock"}'))
    assert float(line.split()[-1]) >= 2 * 24 * 3600
    health = await _get(client, admin, f"/accounts/{account['id']}/health")
    assert health["actions_waiting"] == 1
    assert datetime.fromisoformat(health["oldest_waiting_since"]) == created


@pytest.fixture
def x(runtime, monkeypatch):
    return _proxied("x", runtime, monkeypatch)


