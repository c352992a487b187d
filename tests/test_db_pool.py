"""Each process's PostgreSQL pool is set by REPOSTER_DB_POOL_SIZE and REPOSTER_DB_MAX_OVERFLOW, so that
workers x (pool + overflow + 1 LISTEN) + the API fit the server's max_connections (docs/scale.md)."""

from __future__ import annotations

from app.config import Settings
from app.runtime import Runtime
from tests.conftest import make_settings


def test_the_pool_defaults_keep_four_workers_and_an_api_under_a_hundred_connections():
    settings = Settings(_env_file=None)
    per_process = settings.db_pool_size + settings.db_max_overflow
    assert 4 * (per_process + 1) + per_process < 100


async def test_the_pool_settings_bound_the_connections_a_process_opens(db_url):
    runtime = Runtime.build(make_settings(db_url, db_pool_size=2, db_max_overflow=1))
    try:
        if runtime.engine.dialect.name != "postgresql":
            return  # SQLite: one file, no server connections to count
        held = [await runtime.engine.connect() for _ in range(3)]
        pool = runtime.engine.pool
        assert (pool.size(), pool.checkedout(), pool.overflow()) == (2, 3, 1)
        assert pool._max_overflow == 1  # type: ignore[attr-defined] - a fourth would wait for one back
        for conn in held:
            await conn.close()
    finally:
        await runtime.close()
