"""Post-to-repost latency of healthy accounts while one server hangs, against none hanging.

    python bench/slow_server.py                        # SQLite file in a temp dir
    python bench/slow_server.py --pg postgresql://postgres@127.0.0.1:5432/postgres
    python bench/slow_server.py --hosts 4 --accounts 5 --every 1 --seconds 30

Mock servers (one mock world each, a host of its own) with `--accounts` accounts on each, every
account with a #coffee<n> rule for its server. The scheduler's jobs run as in `reposter worker`; a post is
published on every server each `--every` seconds. In the "hanging" runs, the first server
accepts calls and never answers. Printed: for the accounts on the other servers, the latency
from a post's publication to its repost (median, p95, max) and how many were reposted, with the
jobs (`worker`, polling and sending apart, accounts concurrently) and, for comparison, with one
sequential tick job (`one tick`, the shape before issue 9: every stage in turn, one account at
a time, waiting for each call up to its budget).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from cryptography.fernet import Fernet
from sqlalchemy import select

from app.accounts.crypto import encrypt
from app.config import Settings
from app.db.migrate import upgrade
from app.db.session import transaction
from app.models import Account, Action, Rule
from app.platforms.mock.world import get_world, reset_world
from app.runtime import Runtime
from app.scheduler.jobs import Pipeline
from app.scheduler.setup import start_scheduler

logging.disable(logging.CRITICAL)  # the figures only (jobs cut off at the end log errors)


async def setup(runtime: Runtime, hosts: int, per_host: int) -> dict[int, str]:
    """Worlds (servers) with their accounts and rules; returns account id -> world name."""
    where: dict[int, str] = {}
    async with transaction(runtime.sessions) as session:
        for h in range(hosts):
            world = reset_world(f"server{h}")
            world._ids = itertools.count(h * 10**9 + 1)  # post ids unique across servers
            for a in range(per_host):
                handle = f"shop{h}_{a}"
                world.tokens[handle] = "t"
                world.add_author(handle, is_bot=True)
                row = Account(platform="mock", handle=handle,
                              credentials_encrypted=encrypt(runtime.fernet, {"token": "t"}),
                              config={"world": world.name, "allow_without_consent": True}, sources=[f"tag:coffee{h}"])
                session.add(row)
                await session.flush()
                # a tag per server: mock posts are one platform's, and each server's stay its own
                session.add(Rule(account_id=row.id, name="coffee", query=f"#coffee{h}", normalized=f"#coffee{h}"))
                where[row.id] = world.name
    return where


async def run(url: str, *, mode: str, hang: bool, hosts: int, per_host: int, seconds: float, every: float) -> dict:
    settings = Settings(_env_file=None, database_url=url, encryption_key=Fernet.generate_key().decode(),
                        run_scheduler=False, poll_interval_seconds=1.0, retry_base_seconds=1.0)
    runtime = Runtime.build(settings)
    where = await setup(runtime, hosts, per_host)
    if mode == "worker":
        pipeline = Pipeline(runtime)
        scheduler = start_scheduler(pipeline, every_seconds=0.5)
    else:  # one sequential tick job, as before: one account after the other, each stage in turn
        settings.max_concurrent_calls = settings.max_calls_per_host = 1
        pipeline = Pipeline(runtime)
        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.add_job(pipeline.tick, "interval", seconds=0.5, next_run_time=datetime.now(UTC), max_instances=1,
                          coalesce=True, misfire_grace_time=None)
        scheduler.start()
    worlds = {name: get_world(name) for name in sorted(set(where.values()))}
    await asyncio.sleep(2.0)  # first polls: every source has its starting point
    if hang:
        worlds["server0"].stall_seconds = float("inf")
    published: dict[str, datetime] = {}
    deadline = time.monotonic() + seconds
    count = itertools.count()
    while time.monotonic() < deadline:
        for name, world in worlds.items():
            post = world.publish(f"fan_of_{name}", f"fresh beans, batch {next(count)} #coffee{name[6:]}")
            published[post.id] = post.created_at
        await asyncio.sleep(every)
    await asyncio.sleep(5.0)  # let the last posts through
    scheduler.shutdown(wait=False)
    async with transaction(runtime.sessions) as session:
        rows = (await session.execute(select(Action.account_id, Action.post_id, Action.sent_at)
                                      .where(Action.status == "done"))).all()
    await pipeline.close()
    await runtime.close()
    healthy = {aid for aid, name in where.items() if name != "server0"}
    latencies = [(sent - published[pid]).total_seconds() for aid, pid, sent in rows
                 if aid in healthy and pid in published]
    expected = len([p for p in published if int(p) > 10**9]) * per_host  # posts on servers 1.. x their accounts
    return {"latencies": latencies, "expected": expected}


def fresh_database(pg: str | None, tmp: str, n: int) -> str:
    if not pg:
        url = f"sqlite+aiosqlite:///{tmp}/bench{n}.db"
        upgrade(url)
        return url
    name = f"reposter_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = pg.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + f"/{name}"
    upgrade(url)
    return url


def drop_database(pg: str | None, url: str) -> None:
    if pg:
        with psycopg.connect(pg, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def line(label: str, result: dict) -> str:
    lat = sorted(result["latencies"])
    if not lat:
        return f"{label:<28} reposted 0/{result['expected']}"
    p95 = lat[min(len(lat) - 1, int(0.95 * len(lat)))]
    return (f"{label:<28} median {statistics.median(lat):6.2f} s   p95 {p95:6.2f} s   max {lat[-1]:6.2f} s   "
            f"reposted {len(lat)}/{result['expected']}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", help="a PostgreSQL server URL (a private database is made and dropped)")
    parser.add_argument("--hosts", type=int, default=4)
    parser.add_argument("--accounts", type=int, default=3, help="accounts per server")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long posts are published")
    parser.add_argument("--every", type=float, default=2.0, help="seconds between posts on each server")
    parser.add_argument("--modes", default="worker,one-tick")
    args = parser.parse_args()
    print(f"{args.hosts} servers x {args.accounts} accounts, a post per server every {args.every:g} s for "
          f"{args.seconds:g} s; latency of the accounts on servers 1..{args.hosts - 1}"
          f" ({'PostgreSQL' if args.pg else 'SQLite'})")
    with tempfile.TemporaryDirectory() as tmp:
        n = 0
        for mode in args.modes.split(","):
            for hang in (False, True):
                n += 1
                url = await asyncio.to_thread(fresh_database, args.pg, tmp, n)
                try:
                    result = await run(url, mode=mode, hang=hang, hosts=args.hosts, per_host=args.accounts,
                                       seconds=args.seconds, every=args.every)
                finally:
                    drop_database(args.pg, url)
                print(line(f"{mode}, {'server0 hanging' if hang else 'none hanging'}", result), flush=True)


if __name__ == "__main__":
    os.environ.setdefault("REPOSTER_ENCRYPTION_KEY", Fernet.generate_key().decode())
    asyncio.run(main())
