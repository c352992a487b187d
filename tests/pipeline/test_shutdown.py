"""Graceful shutdown (issue 12, point 5): a worker told to stop gives back every lease at once, so
another worker takes its rows in its next tick (not after lease_seconds); a send cut short stays
`sending` and is settled by reconcile (asks the platform), never sent again blind."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta

import httpx
from sqlalchemy import select

from app.db.base import utcnow
from app.db.migrate import upgrade
from app.db.session import transaction
from app.main import create_app
from app.models import Action, Cursor
from app.pipeline.leases import claim, release_all
from app.platforms.mock.world import reset_world
from app.runtime import Runtime
from app.scheduler.jobs import Pipeline
from tests.api.helpers import API, ingest, make_account, make_rule, world
from tests.conftest import make_settings, make_token


async def _leases(runtime) -> tuple[dict[int, str | None], dict[int, str | None]]:
    """Who holds each cursor and each action."""
    async with runtime.sessions() as session:
        cursors = dict((await session.execute(select(Cursor.id, Cursor.lease_owner))).all())
        actions = dict((await session.execute(select(Action.id, Action.lease_owner))).all())
    return cursors, actions


async def _action(runtime) -> Action | None:
    async with runtime.sessions() as session:
        return await session.scalar(select(Action))


async def _until(condition, seconds: float = 15.0) -> None:
    """Wait for `condition()` (awaitable) to hold; fail after `seconds` (the machine may be busy)."""
    for _ in range(int(seconds / 0.05)):
        if await condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition never held")


async def test_release_all_frees_exactly_this_workers_leases(client, admin, runtime):
    account = await make_account(client, admin)
    await make_rule(client, admin, account["id"], "#coffee")
    await ingest(client, admin, [world().publish("alice", "one #coffee"), world().publish("bob", "two #coffee")])
    await Pipeline(runtime).match_all()
    now = utcnow()
    async with transaction(runtime.sessions) as session:
        session.add_all([Cursor(account_id=None, source=f"s{i}", next_poll_at=now) for i in range(2)])
    async with transaction(runtime.sessions) as session:
        assert len(await claim(session, Cursor, Cursor.source.like("s%"), order=[Cursor.id], limit=1,
                               owner="w1", now=now, seconds=600)) == 1
        assert len(await claim(session, Cursor, Cursor.source.like("s%"), order=[Cursor.id], limit=1,
                               owner="w2", now=now, seconds=600)) == 1
        assert len(await claim(session, Action, order=[Action.id], limit=1, owner="w1", now=now, seconds=600)) == 1
        assert len(await claim(session, Action, order=[Action.id], limit=1, owner="w2", now=now, seconds=600)) == 1
    async with transaction(runtime.sessions) as session:
        assert await release_all(session, "w1") == {"cursors": 1, "actions": 1, "alert_deliveries": 0}
    cursors, actions = await _leases(runtime)
    for owners in (list(cursors.values()), list(actions.values())):
        assert "w1" not in owners and owners.count("w2") == 1  # the other worker keeps its lease
    async with runtime.sessions() as session:  # freed means free now, not at the old expiry
        held = await session.scalars(select(Action.lease_expires_at).where(Action.lease_owner.is_(None)))
        assert list(held) == [None]
    async with transaction(runtime.sessions) as session:
        assert await release_all(session, "w1") == {"cursors": 0, "actions": 0, "alert_deliveries": 0}


async def test_a_stopped_workers_claimed_work_is_taken_by_another_in_its_next_tick(client, admin, runtime):
    account = await make_account(client, admin, sources=["tag:coffee"])
    await make_rule(client, admin, account["id"], "#coffee", action="repost")
    post = world().publish("alice", "first #coffee")
    runtime.settings.stage_wait_seconds = 0.2
    first = Pipeline(runtime)
    await first.poll_tick()  # polled and matched: the action is queued
    world().publish("bob", "second #coffee")  # for the next poll, whoever makes it
    world().stall_seconds = float("inf")  # the server stops answering: work stays in hand
    sending = asyncio.create_task(first.send_tick())
    polling = asyncio.create_task(first.poll_tick())

    async def in_hand() -> bool:
        cursors, _ = await _leases(runtime)
        action = await _action(runtime)
        return (runtime.worker_id in cursors.values() and action is not None and action.status == "sending"
                and action.lease_owner == runtime.worker_id)

    await _until(in_hand)
    await asyncio.gather(sending, polling)  # the jobs ended; the calls go on in the background
    world().reposts[("coffeeclub", post.id)] = "r-landed"  # the platform acted; its answer never came back

    started = time.monotonic()
    released = await first.shutdown(grace=0.3)
    assert time.monotonic() - started < 3
    assert released["actions"] == 1 and released["cursors"] >= 1
    cursors, actions = await _leases(runtime)
    assert set(cursors.values()) == {None} and set(actions.values()) == {None}
    assert (await _action(runtime)).status == "sending"  # cut short: not re-queued blind

    world().stall_seconds = 0
    other = Runtime.build(runtime.settings.model_copy(update={"worker_id": "second-worker"}))
    try:
        second = Pipeline(other)
        sent = await second.send_tick()  # its next tick: no lease had to run out
        polled = await second.poll_tick()
    finally:
        await other.close()
    action = await _action(runtime)
    assert (sent.reconciled, sent.sent) == (1, 0)  # asked the platform (find_own), sent nothing
    assert (action.status, action.platform_action_id) == ("done", "r-landed")
    assert list(world().reposts.values()) == ["r-landed"]
    assert polled.polled_new == 1  # the cursor the first worker held was polled by the second


async def test_work_that_ends_within_the_grace_period_is_finished_and_recorded(client, admin, runtime):
    account = await make_account(client, admin)
    await make_rule(client, admin, account["id"], "#coffee", action="repost")
    await ingest(client, admin, [post := world().publish("alice", "slow #coffee")])
    runtime.settings.stage_wait_seconds = 0.1
    pipeline = Pipeline(runtime)
    world().stall_seconds = 0.5  # slower than the job waits, well within the grace period
    assert (await pipeline.send_tick()).sent == 0  # the send goes on in the background

    started = time.monotonic()
    released = await pipeline.shutdown(grace=5)
    assert time.monotonic() - started < 4  # waited for the work, not for the whole grace period
    assert released["actions"] == 0  # nothing left to give back: the send ended and was recorded
    action = await _action(runtime)
    assert (action.status, action.lease_owner) == ("done", None)
    assert list(world().reposts) == [("coffeeclub", post.id)]


async def test_a_shutdown_gives_back_what_was_not_called_yet(client, admin, runtime):
    """A round marks an account's actions `sending` together; when the worker stops, the call in
    flight finishes and those not called yet go back to the queue (no platform question needed)."""
    account = await make_account(client, admin)
    await make_rule(client, admin, account["id"], "#coffee", action="repost")
    posts = [world().publish("alice", "one #coffee"), world().publish("bob", "two #coffee")]
    await ingest(client, admin, posts)
    runtime.settings.stage_wait_seconds = 0.05
    pipeline = Pipeline(runtime)
    world().stall_seconds = 0.5
    await pipeline.send_tick()  # the first call is out, the second waits its turn
    released = await pipeline.shutdown(grace=5)
    assert released["actions"] == 0
    async with runtime.sessions() as session:
        rows = [(a.post_id, a.status, a.attempts, a.lease_owner)
                for a in await session.scalars(select(Action).order_by(Action.id))]
    assert rows == [(posts[0].id, "done", 1, None), (posts[1].id, "queued", 0, None)]
    assert list(world().reposts) == [("coffeeclub", posts[0].id)]


WORKER = """
import sys
from app.platforms.mock.world import get_world
get_world().stall_seconds = float("inf")  # this process's mock server never answers: work is in hand
from app.cli import main
sys.exit(main(["worker"]))
"""


async def _stalled_account(url: str, key: str) -> None:
    """An account with a source to poll and a post its rule matches (a send to make), on `url`."""
    reset_world("default")
    runtime = Runtime.build(make_settings(url, encryption_key=key))
    try:
        admin = await make_token(runtime)
        transport = httpx.ASGITransport(app=create_app(runtime=runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            account = await make_account(client, admin, sources=["tag:coffee"])
            await make_rule(client, admin, account["id"], "#coffee", action="repost")
            await ingest(client, admin, [world().publish("alice", "fresh #coffee")])
            assert (await client.get(f"{API}/accounts/{account['id']}", headers=admin)).status_code == 200
    finally:
        await runtime.close()


def _held(url: str) -> tuple[list[str | None], list[tuple[str, str | None]]]:
    """Cursor lease owners, and (status, lease owner) of each action, read in a fresh runtime."""

    async def read() -> tuple[list[str | None], list[tuple[str, str | None]]]:
        runtime = Runtime.build(make_settings(url))
        try:
            async with runtime.sessions() as session:
                cursors = list(await session.scalars(select(Cursor.lease_owner).where(Cursor.account_id.is_not(None))))
                actions = [(a.status, a.lease_owner) for a in await session.scalars(select(Action))]
        finally:
            await runtime.close()
        return cursors, actions

    return asyncio.run(read())


def test_a_sigterm_stops_the_worker_command_cleanly_with_its_leases_given_back(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'worker.db'}"
    upgrade(url)
    key = make_settings(url).encryption_key
    asyncio.run(_stalled_account(url, key))
    grace = 1.0
    env = {**os.environ, "REPOSTER_DATABASE_URL": url, "REPOSTER_ENCRYPTION_KEY": key,
           "REPOSTER_SHUTDOWN_GRACE_SECONDS": str(grace), "REPOSTER_DISPATCH_INTERVAL_SECONDS": "0.5",
           "REPOSTER_STAGE_WAIT_SECONDS": "0.2", "REPOSTER_LOG_FORMAT": "text"}
    worker = subprocess.Popen([sys.executable, "-c", WORKER], env=env, cwd=tmp_path, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:  # until the poll and the send are both in hand (stalled on the mock server)
            cursors, actions = _held(url)
            if any(cursors) and actions and actions[0][1] is not None and actions[0][0] == "sending":
                break
            assert worker.poll() is None and time.monotonic() < deadline, worker.communicate(timeout=5)
            time.sleep(0.2)
        worker.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        out, err = worker.communicate(timeout=grace + 5)
        assert time.monotonic() - stopped < grace + 5
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert worker.returncode == 0, err
    assert "Traceback" not in out + err, err
    assert "shutdown: leases released" in out + err
    cursors, actions = _held(url)
    assert set(cursors) == {None}
    assert actions == [("sending", None)]  # released for reconcile to settle, not re-queued blind


def test_a_sigterm_while_the_worker_is_starting_stops_it_at_once(tmp_path):
    """Before its own handler is in place (it is checking the database), a worker still stops on
    SIGTERM: as a container's PID 1 a signal with no handler is dropped, and the stop would wait
    for the orchestrator's kill."""
    silent = socket.create_server(("127.0.0.1", 0))  # a "database" that takes the connection, never answers
    url = f"postgresql://reposter@127.0.0.1:{silent.getsockname()[1]}/reposter"
    env = {**os.environ, "REPOSTER_DATABASE_URL": url, "REPOSTER_ENCRYPTION_KEY": make_settings(url).encryption_key}
    worker = subprocess.Popen([sys.executable, "-c", WORKER], env=env, cwd=tmp_path, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        silent.settimeout(30)
        connection, _ = silent.accept()  # the worker is in its start-up check now
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
        silent.close()
    connection.close()
    assert worker.returncode == 128 + signal.SIGTERM, err
    assert "reposter: stopped (SIGTERM) before it was under way" in err
    assert "Traceback" not in out + err, err
HEALTHY_WORKER = """
import sys
from app.cli import main
sys.exit(main(["worker"]))
"""


async def _account_to_poll(url: str, key: str) -> None:
    """An account with one source, due now."""
    runtime = Runtime.build(make_settings(url, encryption_key=key))
    try:
        admin = await make_token(runtime)
        transport = httpx.ASGITransport(app=create_app(runtime=runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            await make_account(client, admin, sources=["tag:coffee"])
    finally:
        await runtime.close()


def _source(url: str) -> Cursor | None:
    async def read() -> Cursor | None:
        runtime = Runtime.build(make_settings(url))
        try:
            async with runtime.sessions() as session:
                return await session.scalar(select(Cursor).where(Cursor.account_id.is_not(None)))
        finally:
            await runtime.close()

    return asyncio.run(read())


def test_a_sigterm_workers_claimed_poll_is_taken_by_another_worker_within_one_poll_interval(tmp_path):
    """Two `reposter worker` processes on PostgreSQL: the first claims the source and hangs on the
    platform; told to stop, it gives its lease back, and the second polls the source well within
    one poll interval, not after the lease (120 s) would have run out."""
    from tests.conftest import PG_SERVER, _drop_database, _postgres_database

    name = _postgres_database()
    url = PG_SERVER.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + f"/{name}"
    interval, lease = 60.0, 120
    workers: list[subprocess.Popen] = []
    told_to_stop: list[subprocess.Popen] = []  # exits as it should: not a crash
    try:
        upgrade(url)
        key = make_settings(url).encryption_key
        asyncio.run(_account_to_poll(url, key))
        env = {**os.environ, "REPOSTER_DATABASE_URL": url, "REPOSTER_ENCRYPTION_KEY": key,
               "REPOSTER_SHUTDOWN_GRACE_SECONDS": "1", "REPOSTER_DISPATCH_INTERVAL_SECONDS": "0.5",
               "REPOSTER_STAGE_WAIT_SECONDS": "0.2", "REPOSTER_LOG_FORMAT": "text",
               "REPOSTER_POLL_INTERVAL_SECONDS": str(interval), "REPOSTER_LEASE_SECONDS": str(lease)}
        logs = [tmp_path / "stalled.log", tmp_path / "healthy.log"]

        def start(code: str, log) -> subprocess.Popen:
            with open(log, "wb") as out:
                workers.append(subprocess.Popen([sys.executable, "-c", code], env=env, cwd=tmp_path,
                                                stdout=out, stderr=out))
            return workers[-1]

        def until(condition, what: str) -> None:
            deadline = time.monotonic() + 60  # a busy machine; the figure asserted is the database's
            while not condition():
                assert all(w.poll() is None for w in workers if w not in told_to_stop), [p.read_text() for p in logs]
                assert time.monotonic() < deadline, f"{what}: " + "\n".join(p.read_text()[-2000:] for p in logs)
                time.sleep(0.2)

        stalled = start(WORKER, logs[0])  # its platform never answers: the poll stays in its hands
        # the first worker makes the source's cursor (due at once) and claims it
        until(lambda: (made := _source(url)) is not None and made.lease_owner is not None, "the first worker claims")
        claimed = _source(url)
        assert claimed is not None
        start(HEALTHY_WORKER, logs[1])
        until(lambda: "worker started" in logs[1].read_text(), "the second worker starts")
        stopped_at = utcnow()
        told_to_stop.append(stalled)
        stalled.send_signal(signal.SIGTERM)
        assert stalled.wait(timeout=30) == 0, logs[0].read_text()
        until(lambda: (_source(url) or claimed).poll_count > 0, "the second worker polls the source")
        polled = _source(url)
        assert polled is not None
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()
        _drop_database(name)
    assert "shutdown: leases released" in logs[0].read_text()
    assert polled.poll_count == 1 and polled.last_success_at is not None  # one poll, the second worker's
    assert polled.lease_owner is None
    assert polled.last_polled_at - stopped_at < timedelta(seconds=interval)
    assert polled.last_polled_at < claimed.lease_expires_at  # taken over before the lease could run out
