"""The whole pipeline's throughput: inbox -> index -> decisions -> action rows -> mock platform.

    python bench/pipeline.py                       # SQLite file in a temp dir
    python bench/pipeline.py --pg postgresql://postgres@127.0.0.1:5432/postgres
    python bench/pipeline.py --posts 20000 --rules 10000 --accounts 50
    python bench/pipeline.py --accounts 1000 --latency 0.05   # each mock platform call takes 50 ms
    python bench/pipeline.py --accounts 1000 --latency 0.05 --spread   # ... each post for one account, in turn

The settings come from the environment as for the service (e.g. REPOSTER_MAX_CONCURRENT_CALLS,
REPOSTER_MAX_CALLS_PER_HOST, REPOSTER_DISPATCH_BATCH); the defaults otherwise.

Prints posts matched per second (the matcher stage, with its action rows written) and actions
dispatched per second (the dispatcher stage, with its checks and the mock platform's calls).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.fernet import Fernet
from scratch import on_scratch_database  # bench/scratch.py (bench/ is on sys.path)
from sqlalchemy import func, select

from app.accounts.crypto import encrypt
from app.config import Settings
from app.db.session import transaction
from app.models import Account, Action, Rule
from app.pipeline import inbox
from app.platforms.mock.world import get_world
from app.runtime import Runtime
from app.scheduler.jobs import Pipeline

WORDS = [f"w{i}" for i in range(5000)]
TAGS = [f"tag{i}" for i in range(2000)]


def zipf(rng: random.Random, items: list[str]) -> str:
    return items[min(len(items) - 1, int(rng.paretovariate(1.1)) - 1)]


async def setup(runtime: Runtime, *, accounts: int, rules: int, rng: random.Random, spread: bool = False) -> None:
    world = get_world("default")
    async with transaction(runtime.sessions) as session:
        secret = encrypt(runtime.fernet, {"token": "t"})
        rows = [Account(platform="mock", handle=f"acct{i}", credentials_encrypted=secret, config={}, sources=[])
                for i in range(accounts)]
        session.add_all(rows)
        await session.flush()
        for row in rows:
            world.tokens[row.handle] = "t"
            world.add_author(row.handle)
        for i in range(rules):
            kind = i % 3
            query = (f"#{rng.choice(TAGS)}" if kind == 0 else f"{rng.choice(WORDS)} {rng.choice(WORDS)}"
                     if kind == 1 else f"#{rng.choice(TAGS)} OR {rng.choice(WORDS)} -{rng.choice(WORDS)}")
            session.add(Rule(account_id=rows[i % accounts].id, name=f"r{i}", query=query, normalized=query))
        for i, row in enumerate(rows if spread else []):  # one rule per account that only its posts match
            session.add(Rule(account_id=row.id, name=f"own{i}", query=f"#own{i}", normalized=f"#own{i}"))


async def run(url: str, *, posts: int, rules: int, accounts: int, latency: float, spread: bool) -> None:
    rng = random.Random(42)
    runtime = Runtime.build(Settings(database_url=url, encryption_key=Fernet.generate_key().decode(),
                                     retry_base_seconds=0))
    await setup(runtime, accounts=accounts, rules=rules, rng=rng, spread=spread)
    world = get_world("default")

    def text() -> str:
        words = [zipf(rng, WORDS) for _ in range(rng.randint(3, 30))]
        return " ".join(words + [f"#{zipf(rng, TAGS)}" for _ in range(rng.randint(0, 3))])

    batch = [world.publish(f"user{rng.randrange(3000)}", text() + (f" #own{i % accounts}" if spread else ""))
             for i in range(posts)]
    async with transaction(runtime.sessions) as session:
        started = time.perf_counter()
        await inbox.store(session, batch)
    stored = time.perf_counter() - started
    pipeline = Pipeline(runtime)
    started = time.perf_counter()
    async with transaction(runtime.sessions) as session:  # a running worker has its index built once
        await pipeline.matcher.compiled.sync(session)
    indexing = time.perf_counter() - started
    started = time.perf_counter()
    matched = await pipeline.match_all()
    matching = time.perf_counter() - started
    async with transaction(runtime.sessions) as session:  # an account's sends go one at a time, in order
        heaviest = (await session.execute(select(func.count()).select_from(Action).group_by(Action.account_id)
                                          .order_by(func.count().desc()).limit(1))).scalar() or 0
    world.stall_seconds = latency  # every platform call from now on takes this long
    started, cpu, sent = time.perf_counter(), time.process_time(), 0
    while (n := await pipeline.tick(poll=False)) and n.sent:
        sent += n.sent
    dispatching, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"{url.split(':')[0]:<10} {posts:,} posts, {rules:,} rules over {accounts} accounts "
          f"(os.cpu_count()={os.cpu_count()}, platform calls {latency * 1000:g} ms, "
          f"max_concurrent_calls={runtime.settings.max_concurrent_calls}, "
          f"max_calls_per_host={runtime.settings.max_calls_per_host}, "
          f"dispatch_batch={runtime.settings.dispatch_batch})")
    print(f"  index build   {indexing * 1000:>10,.0f} ms once, when the worker starts "
          f"({rules + accounts * spread:,} rules)")
    print(f"  inbox store   {posts / stored:>10,.0f} posts/s")
    print(f"  match+decide  {matched / matching:>10,.0f} posts/s  ({len(world.reposts):,} reposts decided)")
    print(f"  dispatch      {sent / dispatching if dispatching else 0:>10,.0f} actions/s ({sent:,} sent; "
          f"this process's CPU {cpu * 1000 / max(sent, 1):.2f} ms per action, load average {os.getloadavg()[0]:.1f})")
    if latency:
        floor = heaviest * latency
        print(f"                (the busiest account has {heaviest:,} actions: one at a time, at least {floor:.1f} s, "
              f"so at most {sent / floor if floor else 0:,.0f} actions/s whatever the concurrency)")
    await runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", help="a PostgreSQL server URL; a scratch database is made and dropped")
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument("--rules", type=int, default=2000)
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds each mock platform call takes")
    parser.add_argument("--spread", action="store_true",
                        help="every post also matches one account's own rule, the accounts in turn")
    args = parser.parse_args()
    on_scratch_database(args.pg, lambda url: run(url, posts=args.posts, rules=args.rules, accounts=args.accounts,
                                                 latency=args.latency, spread=args.spread))


if __name__ == "__main__":
    main()
