"""The push path (app/pipeline/push.py): a post that arrives through /ingest or a stream is matched,
decided and sent at once, by the worker's push loop, without any scheduled tick; limits hold, and
whatever it leaves behind (a crash between deciding and sending) is sent by the ordinary dispatcher.

No test here runs a tick unless it says so; each waits for the mock platform's call, with a timeout."""

import asyncio
import inspect
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.db.base import utcnow
from app.models import Action, ActionStatus
from app.pipeline import dispatcher, push
from app.pipeline.streamer import Streamer
from app.platforms.base import Post
from app.platforms.mock.platform import MockActions, MockPlatform
from app.platforms.registry import get_platform, register
from app.runtime import Runtime
from app.scheduler.jobs import Pipeline
from tests.api.helpers import actions, ingest, make_account, make_limited_account, make_rule, world
from tests.conftest import make_settings
from tests.pipeline.test_streamer import PushingFeed

WAIT = 20.0  # seconds before a test gives up waiting (never an assertion on speed)


class RecordingActions(MockActions):
    """The mock's action client, telling the test when a repost call reaches the platform."""

    called: asyncio.Event

    async def repost(self, post: Post) -> str:
        self.called.set()
        return await super().repost(post)


class RecordingMock(MockPlatform):
    def __init__(self) -> None:
        self.called = asyncio.Event()

    def action_client(self, ctx, http):
        client = RecordingActions(ctx, self.world(ctx))
        client.called = self.called
        return client

    def feed_source(self, ctx, http):  # a stream, for accounts that ask for one
        return PushingFeed(ctx, self.world(ctx))


@pytest.fixture
def platform():
    original = get_platform("mock")
    recording = RecordingMock()
    register(recording)
    yield recording
    register(original)


@pytest.fixture
async def pushing(pipeline):
    """The pipeline with its push loop running (and no scheduler: nothing ticks)."""
    pipeline.start_push()
    yield pipeline
    await pipeline.shutdown(grace=5)


async def until(check: Callable[[], object], platform: RecordingMock) -> None:
    """Wait, WAIT seconds at most, for `check()` (or what it returns, awaited) to hold; looked at after
    every call on the platform, and at least every 50 ms (for a check that needs no call)."""
    async with asyncio.timeout(WAIT):
        while not await _held(check()):
            platform.called.clear()
            await asyncio.gather(asyncio.wait_for(platform.called.wait(), 0.05), return_exceptions=True)


async def _held(result: object) -> bool:
    return bool(await result if inspect.isawaitable(result) else result)


def reposted(post: Post, handle: str = "coffeeclub") -> Callable[[], bool]:
    return lambda: (handle, post.id) in world().reposts


async def sends_settled(pipeline: Pipeline) -> None:
    """Until the sends in flight have recorded their outcome."""
    assert pipeline.fanout is not None
    await asyncio.gather(*pipeline.fanout.running.values(), return_exceptions=True)


async def the_action(runtime: Runtime, post: Post) -> Action | None:
    async with runtime.sessions() as session:
        return await session.scalar(select(Action).where(Action.post_id == post.id))


async def test_an_ingested_post_is_sent_without_a_tick(client, admin, runtime, platform, pushing):
    account = await make_account(client, admin)
    await make_rule(client, admin, account["id"], "#coffee")
    post = world().publish("alice", "fresh #coffee")
    await ingest(client, admin, [post])
    await until(reposted(post), platform)
    await sends_settled(pushing)
    [done] = await actions(client, admin, account["id"], status="done")
    assert done["post_id"] == post.id
    assert world().reposts == {("coffeeclub", post.id): done["platform_action_id"]}


async def test_a_streamed_post_is_sent_without_a_tick(client, admin, runtime, platform, pushing):
    account = await make_account(client, admin, config={"stream": True})
    await make_rule(client, admin, account["id"], "#coffee")
    streamer = Streamer(runtime)
    try:
        await streamer.sync()
        post = world().publish("alice", "streamed #coffee")
        await until(reposted(post), platform)
    finally:
        await streamer.stop()


async def test_many_posts_at_once_are_each_sent_once(client, admin, runtime, platform, pushing):
    account = await make_account(client, admin)
    await make_rule(client, admin, account["id"], "#coffee")
    posts = [world().publish(f"user{i}", f"post {i} #coffee") for i in range(12)]
    for post in posts:  # one request each: kicks while the loop is busy make one more look, none lost
        await ingest(client, admin, [post])
    await ingest(client, admin, posts)  # delivered twice: nothing new, nothing sent again
    await until(lambda: all(reposted(p)() for p in posts), platform)
    await sends_settled(pushing)
    done = await actions(client, admin, account["id"], status="done")
    assert sorted(a["post_id"] for a in done) == sorted(p.id for p in posts)


async def test_a_capped_account_does_not_send_the_second(client, admin, runtime, platform, pushing):
    await make_limited_account(client, admin, {"max_per_hour": 1})
    first, second = world().publish("alice", "one #coffee"), world().publish("bob", "two #coffee")
    await ingest(client, admin, [first])
    await until(reposted(first), platform)
    await sends_settled(pushing)
    await ingest(client, admin, [second])

    async def held() -> bool:  # the push path took it, and the cap gave it a time about an hour on
        action = await the_action(runtime, second)
        due = action.next_attempt_at if action else None
        return due is not None and due > utcnow() + timedelta(minutes=30)

    await until(held, platform)
    action = await the_action(runtime, second)
    assert action is not None and action.status == ActionStatus.queued and action.lease_owner is None
    assert not reposted(second)()


async def test_a_crash_between_deciding_and_sending_leaves_the_action_to_the_dispatcher(
        client, admin, runtime, platform, pushing, monkeypatch):
    account = await make_account(client, admin)
    await make_rule(client, admin, account["id"], "#coffee")
    looked = asyncio.Event()

    async def dies(runtime, fanout, fresh) -> int:  # the worker dies after the decision was committed
        if fresh:  # (a look with nothing decided, e.g. when the listener starts, is not the one)
            looked.set()
        raise RuntimeError("worker died between deciding and sending")

    monkeypatch.setattr(push, "send_now", dies)
    post = world().publish("alice", "decided #coffee")
    await ingest(client, admin, [post])
    await asyncio.wait_for(looked.wait(), WAIT)
    action = await the_action(runtime, post)
    assert action is not None and action.status == ActionStatus.queued and not reposted(post)()
    await pushing.tick(poll=False)  # the ordinary dispatcher, the safety net
    assert (await the_action(runtime, post)).status == ActionStatus.done
    assert reposted(post)()


async def test_a_crash_after_the_claim_leaves_the_action_to_another_worker(
        client, admin, runtime, platform, pushing, monkeypatch, db_url):
    account = await make_account(client, admin)
    await make_rule(client, admin, account["id"], "#coffee")
    started = asyncio.Event()

    async def dies(*args, **kwargs) -> int:  # claimed (leased) and marked sending, then the worker died
        started.set()
        raise RuntimeError("worker died holding the lease")

    monkeypatch.setattr(dispatcher._Round, "account", dies)
    post = world().publish("alice", "claimed #coffee")
    await ingest(client, admin, [post])
    await asyncio.wait_for(started.wait(), WAIT)
    await sends_settled(pushing)
    action = await the_action(runtime, post)
    # `sending` was committed before any call: whoever takes it over asks the platform first
    assert action.status == ActionStatus.sending and action.lease_owner == runtime.worker_id
    monkeypatch.undo()
    async with runtime.sessions() as session, session.begin():  # the dead worker's lease runs out
        await session.execute(update(Action).values(lease_expires_at=utcnow()))
    other = Runtime.build(make_settings(db_url, encryption_key=runtime.settings.encryption_key))
    try:
        await Pipeline(other).tick(poll=False)
    finally:
        await other.close()
    assert (await the_action(runtime, post)).status == ActionStatus.done
    assert reposted(post)()


async def test_a_worker_apart_from_the_api(client, admin, runtime, platform, db_url):
    """`reposter serve` and `reposter worker` as two processes (two runtimes here): on PostgreSQL the
    worker hears of the post through NOTIFY and sends it at once; on SQLite the kick cannot leave
    the API's process, and the worker's next tick sends it."""
    account = await make_account(client, admin)
    await make_rule(client, admin, account["id"], "#coffee")
    worker = Runtime.build(make_settings(db_url, encryption_key=runtime.settings.encryption_key))
    pipeline = Pipeline(worker)
    pipeline.start_push()
    try:
        await pipeline.match_all()  # the worker's rule index is built (as at its start)
        post = world().publish("alice", "apart #coffee")
        await ingest(client, admin, [post])
        if runtime.engine.dialect.name == "postgresql":
            await until(reposted(post), platform)
        else:
            assert worker.arrivals.kicks == 0  # nothing reached the worker: it waits for its tick
            await pipeline.tick(poll=False)  # (what it queued also wakes the worker's push loop: either sends)
            await until(reposted(post), platform)
    finally:
        await pipeline.shutdown(grace=5)
        await worker.close()


async def test_a_rolled_back_ingest_wakes_nobody(runtime):
    """The kick (and NOTIFY) go out at commit only: a rolled-back store announces nothing."""
    async with runtime.sessions() as session:
        await session.begin()
        await push.announce(session, runtime)
        await session.rollback()
    assert runtime.arrivals.kicks == 0
    async with runtime.sessions() as session, session.begin():
        await push.announce(session, runtime)
    assert runtime.arrivals.kicks == 1
