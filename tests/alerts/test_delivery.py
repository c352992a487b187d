"""Alerts end to end against a local receiver: signed, one per incident and one resolved, retried
with backoff, shaped for Slack, Discord and Matrix, never sent twice blind."""

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from app.alerts import delivery
from app.alerts.signing import DELIVERY, EVENT, SIGNATURE, TIMESTAMP, verify
from app.db.base import utcnow
from app.db.session import transaction
from app.models import AlertDelivery, DeliveryStatus
from tests.alerts.receiver import Receiver, accept_credentials, listen, refuse_credentials, run, subscribe
from tests.api.helpers import API, ingest, make_account, make_rule, world


@pytest.fixture
async def account(client, admin) -> dict:
    return await make_account(client, admin)


async def outbox(runtime) -> list[AlertDelivery]:
    async with transaction(runtime.sessions) as session:
        return list(await session.scalars(select(AlertDelivery).order_by(AlertDelivery.id)))


async def test_one_alert_per_incident_and_one_resolved_signed(client, admin, runtime, account):
    receiver = Receiver()
    await listen(runtime, receiver)
    sub = await subscribe(client, admin, account_id=account["id"])
    await run(runtime)
    assert receiver.requests == []  # nothing wrong, nothing sent
    await refuse_credentials(runtime, account["id"])
    for _ in range(3):
        await run(runtime)
    await accept_credentials(runtime, account["id"])
    for _ in range(2):
        await run(runtime)
    events = receiver.bodies()
    assert [e["event"] for e in events] == ["alert.opened", "alert.resolved"]
    opened = events[0]
    assert opened["kind"] == "account_attention" and opened["state"] == "open"
    assert opened["account"] == {"id": account["id"], "platform": "mock", "handle": "coffeeclub"}
    assert "401 token revoked" in opened["message"] and opened["subject"] == f"account:{account['id']}:credentials"
    for request, event in zip(receiver.requests, events, strict=True):
        assert request.headers[DELIVERY] == event["delivery_id"] and request.headers[EVENT] == event["event"]
        assert request.headers[SIGNATURE].startswith("sha256=") and len(request.headers[SIGNATURE]) == 7 + 64
        assert verify(sub["secret"], request.headers, request.content, now=int(request.headers[TIMESTAMP]))
        assert not verify("another secret", request.headers, request.content, now=int(request.headers[TIMESTAMP]))
        # a replay an hour later is refused, and so is a body changed in transit
        assert not verify(sub["secret"], request.headers, request.content, now=int(request.headers[TIMESTAMP]) + 3600)
        assert not verify(sub["secret"], request.headers, request.content + b" ", now=int(request.headers[TIMESTAMP]))
    incidents = (await client.get(f"{API}/alerts/subscriptions/{sub['id']}/incidents", headers=admin)).json()
    assert incidents["total"] == 1 and incidents["items"][0]["resolved_at"] is not None
    # the same trouble again reopens the incident: one more alert, numbered 2
    await refuse_credentials(runtime, account["id"])
    await run(runtime)
    await run(runtime)
    assert [e["event"] for e in receiver.bodies()][2:] == ["alert.opened"] and receiver.bodies()[2]["incident"] == 2


async def test_a_500_is_retried_with_backoff_then_delivered(client, admin, runtime, account):
    receiver = Receiver(500, 503)
    await listen(runtime, receiver)
    await subscribe(client, admin, account_id=account["id"])
    await refuse_credentials(runtime, account["id"])
    base = runtime.settings.alert_retry_base_seconds = 30.0
    now = utcnow()
    assert await run(runtime, now) == 0
    [row] = await outbox(runtime)
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "HTTP 500: nope")
    assert row.next_attempt_at == now + timedelta(seconds=base)
    assert await run(runtime, now + timedelta(seconds=base - 1)) == 0  # not due yet: not sent
    assert len(receiver.requests) == 1
    later = now + timedelta(seconds=base)
    assert await run(runtime, later) == 0
    [row] = await outbox(runtime)
    assert (row.status, row.attempts) == ("pending", 2) and row.next_attempt_at == later + timedelta(seconds=2 * base)
    assert await run(runtime, later + timedelta(seconds=2 * base)) == 1
    [row] = await outbox(runtime)
    assert (row.status, row.attempts, row.last_error) == ("delivered", 3, None)
    ids = {r.headers[DELIVERY] for r in receiver.requests}
    assert len(receiver.requests) == 3 and len(ids) == 1  # one message, one delivery id, three tries


async def test_a_refusal_is_final_and_attempts_run_out(client, admin, runtime, account):
    receiver = Receiver(404)
    await listen(runtime, receiver)
    await subscribe(client, admin, account_id=account["id"])
    await refuse_credentials(runtime, account["id"])
    await run(runtime)
    [row] = await outbox(runtime)
    assert row.status == "failed" and row.last_error.startswith("HTTP 404")
    runtime.settings.alert_max_attempts = 2
    receiver.answers = [500, 500, 500]
    await accept_credentials(runtime, account["id"])
    await run(runtime)
    await run(runtime, utcnow() + timedelta(hours=2))
    resolved = (await outbox(runtime))[1]
    assert (resolved.status, resolved.attempts) == ("failed", 2) and resolved.last_error == "HTTP 500: nope"


@pytest.mark.parametrize("fmt", ["slack", "discord", "matrix"])
async def test_chat_formats(client, admin, runtime, account, fmt):
    receiver = Receiver()
    await listen(runtime, receiver)
    await subscribe(client, admin, account_id=account["id"], format=fmt)
    await refuse_credentials(runtime, account["id"])
    await run(runtime)
    [body] = receiver.bodies()
    expected = {"slack": {"text"}, "discord": {"content", "allowed_mentions"}, "matrix": {"text", "html"}}[fmt]
    assert set(body) == expected
    text = body.get("text") or body["content"]
    assert text.startswith("[reposter] ALERT: mock @coffeeclub: needs attention") and "401 token revoked" in text
    if fmt == "discord":
        assert body["allowed_mentions"] == {"parse": []}
    if fmt == "matrix":
        assert body["html"].startswith("<p>[reposter] ALERT")


async def test_chat_payload_escapes_what_the_receiver_would_read_as_markup():
    from app.alerts.payloads import render

    payload = {"state": "open", "kind": "account_attention", "message": "<b>&</b>",
               "account": {"platform": "mock", "handle": "x"}}
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in httpx.Response(200, content=render("slack", payload)).json()["text"]
    assert "&lt;b&gt;" in httpx.Response(200, content=render("matrix", payload)).json()["html"]


@pytest.mark.parametrize(("fmt", "status", "sent"), [("json", "delivered", 2), ("slack", "unknown", 1)])
async def test_a_message_that_may_have_arrived_is_not_sent_blind(client, admin, runtime, account, fmt, status, sent):
    """The connection broke after the request went out: the json receiver de-duplicates by the delivery
    id, so it gets the message again under the same id; a chat webhook cannot, so it gets nothing more."""
    receiver = Receiver(httpx.ReadTimeout("read timed out"))
    await listen(runtime, receiver)
    await subscribe(client, admin, account_id=account["id"], format=fmt)
    await refuse_credentials(runtime, account["id"])
    await run(runtime)
    await run(runtime, utcnow() + timedelta(hours=1))
    [row] = await outbox(runtime)
    assert row.status == status and len(receiver.requests) == sent
    assert len({r.headers[DELIVERY] for r in receiver.requests}) == 1
    if status == "unknown":
        assert "not sent again" in row.last_error


async def test_a_connection_never_made_is_retried(client, admin, runtime, account):
    receiver = Receiver(httpx.ConnectError("refused"))
    await listen(runtime, receiver)
    await subscribe(client, admin, account_id=account["id"], format="slack")
    await refuse_credentials(runtime, account["id"])
    await run(runtime)
    await run(runtime, utcnow() + timedelta(hours=1))
    [row] = await outbox(runtime)
    assert row.status == "delivered" and len(receiver.requests) == 2


@pytest.mark.parametrize(("fmt", "status"), [("json", "pending"), ("discord", "unknown")])
async def test_a_worker_that_died_while_sending(client, admin, runtime, account, fmt, status):
    """A row left `sending` with its lease run out may have reached the receiver."""
    await listen(runtime, Receiver())
    await subscribe(client, admin, account_id=account["id"], format=fmt)
    await refuse_credentials(runtime, account["id"])
    async with transaction(runtime.sessions) as session:
        from app.alerts.incidents import evaluate

        await evaluate(session, now=utcnow())
        await session.execute(update(AlertDelivery).values(status=DeliveryStatus.sending.value, attempts=1,
                                                           lease_owner="dead", lease_expires_at=utcnow()))
    async with transaction(runtime.sessions) as session:
        assert await delivery.settle_orphans(session, utcnow() + timedelta(seconds=1), max_attempts=8) == 1
    [row] = await outbox(runtime)
    assert row.status == status and "may have arrived" in row.last_error and row.lease_owner is None


async def test_a_lease_held_by_another_worker_is_not_sent(client, admin, runtime, account):
    receiver = Receiver()
    await listen(runtime, receiver)
    await subscribe(client, admin, account_id=account["id"])
    await refuse_credentials(runtime, account["id"])
    async with transaction(runtime.sessions) as session:
        from app.alerts.incidents import evaluate

        await evaluate(session, now=utcnow())
        await session.execute(update(AlertDelivery).values(lease_owner="other",
                                                           lease_expires_at=utcnow() + timedelta(minutes=5)))
    assert await delivery.deliver_due(runtime) == 0 and receiver.requests == []


async def test_review_waiting_after_its_minutes_and_global_subscriptions(client, admin, runtime, pipeline, account):
    receiver = Receiver()
    await listen(runtime, receiver)
    other = await make_account(client, admin, handle="teaclub")
    await subscribe(client, admin, review_minutes=30, kinds=["review_waiting"])  # every account
    await subscribe(client, admin, account_id=other["id"], review_minutes=30)  # not this one
    await make_rule(client, admin, account["id"], "#coffee", review=True)
    world().add_author("alice", followers_count=10)
    await ingest(client, admin, [world().publish("alice", "hi #coffee")])
    await pipeline.tick(poll=False)
    await run(runtime, utcnow() + timedelta(minutes=29))
    assert receiver.requests == []
    await run(runtime, utcnow() + timedelta(minutes=31))
    [event] = receiver.bodies()
    assert (event["kind"], event["subject"]) == ("review_waiting", f"account:{account['id']}:review")
    assert event["subscription"]["id"] == 1


async def test_rate_limit_and_source_alerts_wait_their_minutes(client, admin, runtime, account):
    from app.accounts.conditions import record_rate_limit, set_condition
    from app.models import Account

    receiver = Receiver()
    await listen(runtime, receiver)
    await subscribe(client, admin, account_id=account["id"], rate_limit_minutes=10, source_minutes=20)
    now = utcnow()
    async with transaction(runtime.sessions) as session:
        row = await session.get_one(Account, account["id"])
        record_rate_limit(row, bucket="shared", until=now + timedelta(hours=2), during="send", now=now)
        set_condition(row, "source:home", severity="warning", message="source home failed 3 times", now=now)
    await run(runtime, now + timedelta(minutes=5))
    assert receiver.requests == []
    await run(runtime, now + timedelta(minutes=11))
    assert [e["kind"] for e in receiver.bodies()] == ["rate_limited"]
    await run(runtime, now + timedelta(minutes=21))
    assert [e["kind"] for e in receiver.bodies()] == ["rate_limited", "source_failing"]
    await run(runtime, now + timedelta(hours=3))  # the limit ran out by itself: resolved
    assert [(e["kind"], e["event"]) for e in receiver.bodies()][2:] == [("rate_limited", "alert.resolved")]


async def test_queue_age(client, admin, runtime, pipeline, account):
    receiver = Receiver()
    await listen(runtime, receiver)
    response = await client.patch(f"{API}/accounts/{account['id']}", json={"limits": {"max_queue_age_seconds": 600}},
                                  headers=admin)
    assert response.status_code == 200, response.text
    await subscribe(client, admin, account_id=account["id"], kinds=["queue_age"])
    await make_rule(client, admin, account["id"], "#coffee")
    await refuse_credentials(runtime, account["id"])  # nothing is sent: the action stays queued
    world().add_author("alice", followers_count=10)
    await ingest(client, admin, [world().publish("alice", "hi #coffee")])
    await pipeline.tick(poll=False)
    await run(runtime, utcnow() + timedelta(minutes=9))
    assert receiver.requests == []
    await run(runtime, utcnow() + timedelta(minutes=11))
    assert [e["kind"] for e in receiver.bodies()] == ["queue_age"]


async def test_a_test_message(client, admin, runtime, account):
    receiver = Receiver()
    await listen(runtime, receiver)
    sub = await subscribe(client, admin, account_id=account["id"], format="matrix")
    response = await client.post(f"{API}/alerts/subscriptions/{sub['id']}/test", headers=admin)
    assert response.status_code == 202, response.text
    await run(runtime)
    [body] = receiver.bodies()
    assert body["text"].startswith("[reposter] TEST")
    deliveries = (await client.get(f"{API}/alerts/subscriptions/{sub['id']}/deliveries", headers=admin)).json()
    assert [(d["event"], d["status"]) for d in deliveries["items"]] == [("alert.test", "delivered")]


async def test_a_disabled_subscription_sends_nothing(client, admin, runtime, account):
    receiver = Receiver()
    await listen(runtime, receiver)
    await subscribe(client, admin, account_id=account["id"], enabled=False)
    await refuse_credentials(runtime, account["id"])
    await run(runtime)
    assert receiver.requests == [] and await outbox(runtime) == []


async def test_a_second_worker_changing_an_incident_writes_no_second_message(client, admin, runtime, account):
    """What keeps two workers evaluating at once from both writing a message: the writes are conditional."""
    from app.alerts import repository
    from app.models import AlertIncident

    await listen(runtime, Receiver())
    await subscribe(client, admin, account_id=account["id"])
    await refuse_credentials(runtime, account["id"])
    await run(runtime)  # opens the incident
    async with transaction(runtime.sessions) as session:
        [row] = await session.scalars(select(AlertIncident))
        twin = AlertIncident(subscription_id=row.subscription_id, kind=row.kind, subject=row.subject, message="",
                             number=1, opened_at=utcnow())
        assert await repository.insert_incident(session, twin) is False  # the unique key holds it once
        assert await repository.reopen(session, row, message="m", now=utcnow()) is False  # open already
        assert await repository.resolve(session, row, now=utcnow()) is True
        assert await repository.resolve(session, row, now=utcnow()) is False  # resolved already
        assert await repository.reopen(session, row, message="m", now=utcnow()) is True
        assert row.number == 2


async def test_the_worker_runs_the_alerts_job(client, admin, runtime, pipeline, account):
    from app.scheduler.setup import start_scheduler, stop_scheduler

    receiver = Receiver()
    await listen(runtime, receiver)
    await subscribe(client, admin, account_id=account["id"])
    await refuse_credentials(runtime, account["id"])
    await pipeline.alerts_tick()  # what the scheduler's "alerts" job calls
    assert [e["event"] for e in receiver.bodies()] == ["alert.opened"]
    runtime.settings.alert_interval_seconds = 3600
    scheduler = start_scheduler(pipeline, every_seconds=3600)
    scheduler.pause()  # before the loop runs any job: this test only reads the job table
    try:
        job = scheduler.get_job("alerts")
        assert job is not None and job.trigger.interval.total_seconds() == 3600
    finally:
        # the worker's own stop: the push loop (and on PostgreSQL its listener) ends with the scheduler
        await stop_scheduler(scheduler, pipeline, grace=0)
