"""Latency from a post's arrival to the platform call: POST /ingest -> match -> decide -> send.

    python bench/latency.py                        # SQLite file in a temp dir
    python bench/latency.py --pg postgresql://postgres@127.0.0.1:5432/postgres
    python bench/latency.py --pg ... --split       # the API and the worker on separate runtimes
    python bench/latency.py --no-push              # scheduler ticks only (what it was before push)

Loads `--rules` rules over `--accounts` accounts on the mock platform (each rule a hashtag that about
three accounts share), runs the worker as `reposter worker` does (the scheduler, every
dispatch_interval_seconds, and the push path), then pushes `--posts` posts one by one through
POST /api/v1/ingest (in-process ASGI), `--rate` a second, each carrying one of the rules' hashtags.
The mock platform records when each repost call reaches it; the figures are the call's time minus
the moment the ingest request was made, one per (post, account), and their p50/p95/p99.

With `--split` the API has a runtime of its own that runs no pipeline: the worker learns of a post
only through the database (PostgreSQL LISTEN/NOTIFY), as when `reposter serve` and `reposter worker`
are separate processes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from cryptography.fernet import Fernet
from scratch import on_scratch_database  # bench/scratch.py (bench/ is on sys.path)
from sqlalchemy import func, select

from app.accounts.crypto import encrypt
from app.auth.caller import Role
from app.auth.schemas import TokenCreate
from app.auth.service import create as create_token
from app.config import Settings
from app.db.base import utcnow
from app.db.session import transaction
from app.main import create_app
from app.models import Account, Cursor, Rule
from app.platforms.base import Post
from app.platforms.mock.platform import MockActions, MockPlatform
from app.platforms.mock.world import get_world
from app.platforms.registry import register
from app.runtime import Runtime
from app.scheduler.jobs import Pipeline
from app.scheduler.setup import start_scheduler, stop_scheduler

# when each (account handle, post id) repost reached the platform
CALLS: dict[tuple[str, str], float] = {}
CALLED = asyncio.Event()


class RecordingActions(MockActions):
    """The mock's action client, noting when each repost call arrives."""

    async def repost(self, post: Post) -> str:
        CALLS.setdefault((self.me, post.id), time.perf_counter())
        CALLED.set()
        return await super().repost(post)


class RecordingMock(MockPlatform):
    def action_client(self, ctx, http):
        return RecordingActions(ctx, self.world(ctx))


def tag_of(i: int, tags: int) -> str:
    return f"t{i % tags}"


async def setup(runtime: Runtime, *, accounts: int, rules: int) -> dict[str, set[str]]:
    """Accounts and rules; returns, per hashtag, the handles of the accounts whose rules name it."""
    world = get_world("default")
    tags = max(1, rules // 3)
    owners: dict[str, set[str]] = {}
    async with transaction(runtime.sessions) as session:
        secret = encrypt(runtime.fernet, {"token": "t"})
        rows = [Account(platform="mock", handle=f"acct{i}", credentials_encrypted=secret, config={},
                        sources=["user:nobody"]) for i in range(accounts)]
        session.add_all(rows)
        await session.flush()
        for row in rows:
            world.tokens[row.handle.lower()] = "t"
            world.add_author(row.handle)
        for i in range(rules):
            account = rows[(i * 7919) % accounts]  # a tag's three rules land on three accounts
            tag = tag_of(i, tags)
            session.add(Rule(account_id=account.id, name=f"r{i}", query=f"#{tag}", normalized=f"#{tag}"))
            owners.setdefault(tag, set()).add(account.handle.lower())
    return owners


async def admin_token(runtime: Runtime) -> str:
    async with transaction(runtime.sessions) as session:
        _, secret = await create_token(session, data=TokenCreate(name="bench", role=Role.admin), caller=None)
    return secret


async def push_posts(client: httpx.AsyncClient, token: str, owners: dict[str, set[str]], *, posts: int,
                     rate: float, rng: random.Random) -> dict[tuple[str, str], float]:
    """Publish and ingest `posts` posts, `rate` a second; the calls each should cause, with its arrival time."""
    world, tags = get_world("default"), sorted(owners)
    expected: dict[tuple[str, str], float] = {}
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(posts):
        tag = rng.choice(tags)
        post = world.publish(f"user{rng.randrange(5000)}", f"news {rng.randrange(10**6)} #{tag}")
        arrived = time.perf_counter()
        response = await client.post("/api/v1/ingest", headers=headers,
                                     json={"platform": "mock", "posts": [post.model_dump(mode="json")]})
        response.raise_for_status()
        expected.update({(handle, post.id): arrived for handle in owners[tag]})
        await asyncio.sleep(rng.expovariate(rate))
    return expected


async def wait_for(expected: dict[tuple[str, str], float], seconds: float) -> None:
    """Until every expected call reached the platform, or `seconds` passed (the rest count as missing)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            while not expected.keys() <= CALLS.keys():
                CALLED.clear()
                await CALLED.wait()


async def first_polls_done(runtime: Runtime, accounts: int, seconds: float) -> None:
    """Until every account's source exists and none is due (each new source is polled at once, 200 a
    round: that is start-up, not the steady state), or `seconds` passed."""
    started = time.perf_counter()
    mine = Cursor.account_id.is_not(None)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            while True:
                async with runtime.sessions() as session:
                    made = await session.scalar(select(func.count()).select_from(Cursor).where(mine))
                    due = await session.scalar(select(func.count()).select_from(Cursor).where(
                        mine, Cursor.next_poll_at <= utcnow()))
                if made and made >= accounts and not due:
                    break
                await asyncio.sleep(0.5)  # a count in the database: nothing to wait on
    print(f"  first polls of every source done after {time.perf_counter() - started:.1f} s more")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def report(label: str, expected: dict[tuple[str, str], float]) -> None:
    latencies = [(CALLS[key] - arrived) * 1000 for key, arrived in expected.items() if key in CALLS]
    missing = len(expected) - len(latencies)
    print(f"  {label}: {len(latencies)} calls ({missing} missing)")
    if latencies:
        print(f"    p50 {percentile(latencies, 50):7.0f} ms   p95 {percentile(latencies, 95):7.0f} ms   "
              f"p99 {percentile(latencies, 99):7.0f} ms   max {max(latencies):7.0f} ms   "
              f"mean {statistics.fmean(latencies):7.0f} ms")


def settings_for(url: str, *, push: bool) -> Settings:
    return Settings(_env_file=None, database_url=url, encryption_key=KEY, poll_interval_seconds=3600,
                    dispatch_interval_seconds=2.0, push_enabled=push)


KEY = Fernet.generate_key().decode()


async def run(url: str, args: argparse.Namespace) -> None:
    register(RecordingMock())
    rng = random.Random(42)
    worker = Runtime.build(settings_for(url, push=not args.no_push))
    api = Runtime.build(settings_for(url, push=False)) if args.split else worker
    started = time.perf_counter()
    owners = await setup(worker, accounts=args.accounts, rules=args.rules)
    token = await admin_token(worker)
    print(f"{url.split(':')[0]:<10} {args.rules:,} rules over {args.accounts:,} accounts, {args.posts} posts at "
          f"{args.rate:g}/s, {'scheduler ticks only' if args.no_push else 'push on'}"
          f"{', API and worker apart' if args.split else ''} (os.cpu_count()={os.cpu_count()}; "
          f"set up in {time.perf_counter() - started:.1f} s)")
    pipeline = Pipeline(worker)
    scheduler = start_scheduler(pipeline, every_seconds=worker.settings.dispatch_interval_seconds)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(runtime=api)),
                                     base_url="http://bench") as client:
            warm = await push_posts(client, token, owners, posts=5, rate=5, rng=rng)
            await wait_for(warm, 120)  # the first match compiles every rule
            report("warm-up", warm)
            await first_polls_done(worker, args.accounts, 120)  # start-up polls: not the steady state
            expected = await push_posts(client, token, owners, posts=args.posts, rate=args.rate, rng=rng)
            await wait_for(expected, 30)
            report("measured", expected)
    finally:
        await stop_scheduler(scheduler, pipeline, grace=5)
        if api is not worker:
            await api.close()
        await worker.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", help="a PostgreSQL server URL; a scratch database is made and dropped")
    parser.add_argument("--rules", type=int, default=10_000)
    parser.add_argument("--accounts", type=int, default=1_000)
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--rate", type=float, default=10.0, help="posts a second (Poisson arrivals)")
    parser.add_argument("--no-push", action="store_true", help="scheduler ticks only")
    parser.add_argument("--split", action="store_true", help="the API on a runtime of its own (PostgreSQL)")
    args = parser.parse_args()
    on_scratch_database(args.pg, lambda url: run(url, args))


if __name__ == "__main__":
    main()
