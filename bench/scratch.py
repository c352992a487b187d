"""The database a benchmark runs on: a scratch PostgreSQL database (made, migrated, dropped after)
when a server URL is given, else a SQLite file in a temporary folder."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import Awaitable, Callable

import psycopg

from app.db.migrate import upgrade


def on_scratch_database(pg: str | None, run: Callable[[str], Awaitable[object]]) -> None:
    """Migrate a fresh database and run `run(url)` on it; a PostgreSQL one is dropped afterwards."""
    if pg:
        name = f"reposter_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(pg, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = pg.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
        try:
            upgrade(url)
            asyncio.run(run(url))
        finally:
            with psycopg.connect(pg, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        upgrade(url)
        asyncio.run(run(url))
