"""What following big block lists costs: loading an account's view (done per batch of matched
posts and before each send) and applying a refresh, with lists of 1,000 and 10,000 people.

    python bench/block_lists.py                      # SQLite in a temporary folder
    python bench/block_lists.py --pg postgresql://postgres@127.0.0.1:5432/postgres

Prints, per list size: the view load (median of 20) without and with the list, the first apply
(everyone joins: inserts plus the skip of their waiting posts), and a refresh where nobody changed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.fernet import Fernet

from app.config import Settings
from app.db.base import utcnow
from app.db.session import transaction
from app.models import Account, BlockListSubscription
from app.moderation import lists
from app.pipeline.views import account_views
from app.runtime import Runtime
from bench.scratch import on_scratch_database

SIZES = (1_000, 10_000)


async def _median_view(runtime: Runtime, account_id: int, times: int = 20) -> float:
    took = []
    for _ in range(times):
        async with runtime.sessions() as session:
            account = await session.get(Account, account_id)
            assert account is not None
            started = time.perf_counter()
            await account_views(session, [account], utcnow())
            took.append(time.perf_counter() - started)
    return statistics.median(took) * 1000


async def run(url: str) -> None:
    runtime = Runtime.build(Settings(_env_file=None, database_url=url, encryption_key=Fernet.generate_key().decode()))
    print(f"database: {url.split(':', 1)[0]}")
    for size in SIZES:
        async with transaction(runtime.sessions) as session:
            account = Account(platform="mock", handle=f"bench{size}", credentials_encrypted="")
            session.add(account)
            await session.flush()
            account_id = account.id
        bare = await _median_view(runtime, account_id)
        members = {f"did:plc:{i:024d}": f"person{i}.example" for i in range(size)}
        fetched = lists.Fetched("bench", members)
        async with transaction(runtime.sessions) as session:
            sub = BlockListSubscription(account_id=account_id, kind="bluesky_modlist", name="bench", member_count=0,
                                        source=f"at://did:plc:bench/app.bsky.graph.list/{size}")
            session.add(sub)
            await session.flush()
            sub_id = sub.id
        timings = []
        for _ in range(2):  # first: everyone joins; second: nobody changed
            async with transaction(runtime.sessions) as session:
                found = await session.get(BlockListSubscription, sub_id)
                account = await session.get(Account, account_id)
                assert found is not None and account is not None
                started = time.perf_counter()
                await lists.apply(session, account, found, fetched, None, interval=1800)
                timings.append(time.perf_counter() - started)
        listed = await _median_view(runtime, account_id)
        print(f"{size:>6} people: view {bare:.1f} ms without the list, {listed:.1f} ms with it; "
              f"first apply {timings[0] * 1000:.0f} ms, unchanged refresh {timings[1] * 1000:.0f} ms")
    await runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", help="a PostgreSQL server URL; a scratch database is made and dropped")
    args = parser.parse_args()
    on_scratch_database(args.pg, run)


if __name__ == "__main__":
    main()
