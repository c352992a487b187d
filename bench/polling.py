"""Polling per source: how close to its own due time each source is polled.

    python bench/polling.py                       # SQLite file in a temp dir
    python bench/polling.py --pg postgresql://postgres@127.0.0.1:5432/postgres
    python bench/polling.py --sources 1000 --accounts 100 --base 10 --seconds 60 --tick 2

1,000 sources (tags on the mock platform) over 100 accounts; a tenth of them busy (a dozen posts
every 3 s), the rest quiet. The poll job runs every `--tick` seconds as the worker runs it
(poll_due, waiting `stage_wait_seconds` at most, claiming what falls due before its next run),
the mock platform answering in `--latency` seconds. For each poll: lateness = when its fetch
started - the due time it was claimed for (negative: early).
Prints p50/p95/p99/max lateness for first polls (new sources) and later ones, and the intervals
the sources settled at (quiet vs busy).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.fernet import Fernet
from scratch import on_scratch_database  # bench/scratch.py (bench/ is on sys.path)
from sqlalchemy import select

from app.accounts.crypto import encrypt
from app.config import Settings
from app.db.base import utcnow
from app.db.session import transaction
from app.models import Account, Cursor
from app.pipeline import poller
from app.pipeline.fanout import Fanout
from app.platforms.mock.world import get_world
from app.runtime import Runtime


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def line(name: str, values: list[float]) -> str:
    if not values:
        return f"  {name:<22} (none)"
    return (f"  {name:<22} n={len(values):>6,}  p50 {pct(values, .5):6.3f} s  p95 {pct(values, .95):6.3f} s  "
            f"p99 {pct(values, .99):6.3f} s  max {max(values):6.3f} s")


async def setup(runtime: Runtime, *, accounts: int, sources: int) -> None:
    world = get_world("default")
    per = max(1, sources // accounts)
    async with transaction(runtime.sessions) as session:
        secret = encrypt(runtime.fernet, {"token": "t"})
        session.add_all([Account(platform="mock", handle=f"acct{i}", credentials_encrypted=secret, config={},
                                 sources=[f"tag:t{i * per + j}" for j in range(per)]) for i in range(accounts)])
    for i in range(accounts):
        world.tokens[f"acct{i}"] = "t"


async def publish(sources: int, seconds: float, every: int) -> None:
    """Posts on the busy tags (t0, t<every>, ...): a dozen each every few seconds. The mock world keeps
    its newest 2,000 posts only: its feed scans them all on every poll, which is not what is measured."""
    world = get_world("default")
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for tag in range(0, sources, every):
            for _ in range(12):
                world.publish("poster", f"news #t{tag}")
        del world.posts[:-2000]
        await asyncio.sleep(3)


async def run(url: str, args: argparse.Namespace) -> None:
    settings = Settings(_env_file=None, database_url=url, encryption_key=Fernet.generate_key().decode(),
                        poll_interval_seconds=args.base, max_calls_per_host=args.concurrency,
                        max_concurrent_calls=args.concurrency)
    runtime = Runtime.build(settings)
    await setup(runtime, accounts=args.accounts, sources=args.sources)
    world = get_world("default")
    world.stall_seconds = args.latency
    first: list[float] = []
    later: list[float] = []
    share: list[float] = []  # later polls' lateness as a share of the interval they waited
    # due time -> (first poll?, interval) of the sources claimed for it (new sources share theirs)
    claimed: dict[datetime, list[tuple[bool, float]]] = {}
    poll_one, until_due = poller._poll_one, poller._until_due

    async def noted(runtime: Runtime, sources: int, cursor_id: int) -> int:
        async with runtime.sessions() as session:
            cursor = await session.get(Cursor, cursor_id)
            assert cursor is not None
            claimed.setdefault(cursor.next_poll_at, []).append(
                (cursor.position is None, cursor.poll_interval_seconds or args.base))
        return await poll_one(runtime, sources, cursor_id)

    async def timed(runtime: Runtime, due: datetime) -> None:  # the fetch starts right after this
        await until_due(runtime, due)
        late = (utcnow() - due).total_seconds()
        new, interval = claimed[due].pop()
        (first if new else later).append(late)
        if not new:
            share.append(100 * late / interval)

    poller._poll_one, poller._until_due = noted, timed  # type: ignore[assignment]
    fanout, cache = Fanout.of(settings), {}
    posting = asyncio.create_task(publish(args.sources, args.seconds, args.busy_every))
    started = time.monotonic()
    rounds = 0
    while (elapsed := time.monotonic() - started) < args.seconds:
        await poller.poll_due(runtime, cache, fanout, wait=settings.stage_wait_seconds,
                              ahead=0.0 if args.no_ahead else args.tick)
        rounds += 1
        await asyncio.sleep(max(0.0, args.tick * rounds - (time.monotonic() - started)))  # fixed rate
    await fanout.close()
    await posting
    async with runtime.sessions() as session:
        rows = (await session.execute(select(Cursor.source, Cursor.poll_interval_seconds)
                                      .where(Cursor.account_id.is_not(None)))).all()
    busy = [r[1] for r in rows if r[1] is not None and int(r[0].removeprefix("tag:t")) % args.busy_every == 0]
    quiet = [r[1] for r in rows if r[1] is not None and int(r[0].removeprefix("tag:t")) % args.busy_every != 0]
    print(f"{url.split(':')[0]:<10} {args.sources:,} sources over {args.accounts} accounts, base {args.base} s, "
          f"tick {args.tick} s{' (no look-ahead)' if args.no_ahead else ''}, platform latency {args.latency} s, "
          f"{args.concurrency} accounts at once, "
          f"{elapsed:.0f} s, {rounds} runs (os.cpu_count()={os.cpu_count()})")
    print(line("first poll lateness", first))
    print(line("later poll lateness", later))
    print(f"  later lateness/interval p50 {pct(share, .5):5.1f} %  p95 {pct(share, .95):5.1f} %  "
          f"p99 {pct(share, .99):5.1f} %")
    print(f"  intervals at the end   busy median {statistics.median(busy) if busy else 0:.2f} s, "
          f"quiet median {statistics.median(quiet) if quiet else 0:.2f} s "
          f"(bounds {args.base / 4:.2f}-{args.base * 8:.2f} s)")
    await runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", help="a PostgreSQL server URL; a scratch database is made and dropped")
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--base", type=float, default=10.0, help="REPOSTER_POLL_INTERVAL_SECONDS")
    parser.add_argument("--tick", type=float, default=2.0, help="how often the poll job runs (the worker: 2 s)")
    parser.add_argument("--latency", type=float, default=0.02, help="the mock platform's answer time")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--no-ahead", action="store_true", help="claim only what is due now (as before)")
    parser.add_argument("--busy-every", type=int, default=10, help="one tag in this many is busy")
    args = parser.parse_args()
    on_scratch_database(args.pg, lambda url: run(url, args))


if __name__ == "__main__":
    main()
