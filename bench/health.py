"""What the failure views cost: /metrics, /readyz and /accounts/{id}/health with many accounts.

    python bench/health.py                 # SQLite, 100 and 2,000 accounts of 5 sources each
    python bench/health.py --postgres      # the same on the PostgreSQL at 127.0.0.1:5432

A fifth of the sources are failing (with kind and status), a tenth of the accounts carry a
`source:` warning. Each endpoint is called 20 times; the median and the slowest are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import psycopg
from cryptography.fernet import Fernet

from app.accounts.conditions import Severity, set_condition
from app.auth.caller import Role
from app.auth.schemas import TokenCreate
from app.auth.service import create as create_token
from app.config import Settings
from app.db.base import utcnow
from app.db.migrate import upgrade
from app.db.session import transaction
from app.main import create_app
from app.models import Account, Cursor
from app.runtime import Runtime

PG = "postgresql://postgres@127.0.0.1:5432"


async def fill(runtime: Runtime, accounts: int, sources: int) -> str:
    now = utcnow()
    async with transaction(runtime.sessions) as session:
        for n in range(accounts):
            account = Account(platform="mock", handle=f"a{n}", credentials_encrypted="", config={}, sources=[],
                              conditions={})
            if n % 10 == 0:
                set_condition(account, "source:tag:a", severity=Severity.warning, message="failing", now=now)
            session.add(account)
        await session.flush()
        for account_id in range(1, accounts + 1):
            for s in range(sources):
                failing = (account_id * sources + s) % 5 == 0
                session.add(Cursor(account_id=account_id, source=f"tag:t{s}", position="1", next_poll_at=now,
                                   last_polled_at=now, consecutive_failures=3 if failing else 0,
                                   error="HTTP 503" if failing else None, error_kind="http" if failing else None,
                                   error_status=503 if failing else None, error_at=now if failing else None))
        _, secret = await create_token(session, data=TokenCreate(name="b", role=Role.admin), caller=None)
    return secret


async def timed(client: httpx.AsyncClient, path: str, headers: dict) -> tuple[float, float]:
    times = []
    for _ in range(20):
        started = time.perf_counter()
        response = await client.get(path, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    return statistics.median(times), max(times)


async def run(url: str, accounts: int, sources: int) -> None:
    await asyncio.to_thread(upgrade, url)
    runtime = Runtime.build(Settings(_env_file=None, database_url=url, encryption_key=Fernet.generate_key().decode(),
                                     run_scheduler=False))
    try:
        secret = await fill(runtime, accounts, sources)
        app = create_app(runtime=runtime)
        headers = {"Authorization": f"Bearer {secret}"}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b") as client:
            for path in ("/metrics", "/readyz", f"/api/v1/accounts/{accounts // 2}/health"):
                median, worst = await timed(client, path, headers)
                print(f"  {accounts:>6} accounts x {sources} sources  {path:<32} "
                      f"median {median:7.1f} ms  max {worst:7.1f} ms")
    finally:
        await runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    for accounts in (100, 2000):
        if args.postgres:
            name = f"reposter_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            try:
                asyncio.run(run(f"{PG}/{name}", accounts, 5))
            finally:
                with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            with tempfile.TemporaryDirectory() as tmp:
                asyncio.run(run(f"sqlite+aiosqlite:///{tmp}/bench.db", accounts, 5))


if __name__ == "__main__":
    main()
