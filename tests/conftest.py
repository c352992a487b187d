"""Shared fixtures: every database test runs on SQLite and on PostgreSQL, migrated by Alembic."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from app.auth.caller import Role
from app.auth.schemas import TokenCreate
from app.auth.service import create as create_token
from app.config import Settings
from app.db.base import Base
from app.db.migrate import upgrade
from app.db.session import transaction
from app.main import create_app
from app.platforms.mock.world import reset_world
from app.runtime import Runtime
from app.scheduler.jobs import Pipeline
from tests.ci import unavailable

PG_SERVER = os.environ.get("REPOSTER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def _pg_admin_url() -> str:
    return PG_SERVER


def _postgres_database() -> str:
    """Create a private database on the test server (so parallel runs never meet); fail in CI if absent."""
    name = f"reposter_test_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(_pg_admin_url(), autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        unavailable(f"PostgreSQL not reachable at {PG_SERVER}: {exc}")
    return name


def _drop_database(name: str) -> None:
    with psycopg.connect(_pg_admin_url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def db_url(request, tmp_path_factory) -> str:
    """A database migrated to head with Alembic, one per engine per test session."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'reposter.db'}"
        upgrade(url)
        yield url
        return
    name = _postgres_database()
    base = PG_SERVER.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    url = f"{base}/{name}"
    upgrade(url)
    yield url
    _drop_database(name)


def make_settings(db_url: str, **overrides) -> Settings:
    values = {"database_url": db_url, "encryption_key": Fernet.generate_key().decode(), "run_scheduler": False,
              "retry_base_seconds": 0, "poll_interval_seconds": 0.001,
              "poll_budget_share": 0}  # every tick polls again, whatever the platform's budget
    values.update(overrides)
    return Settings(_env_file=None, **values)


async def _wipe(runtime: Runtime) -> None:
    """Empty every table between tests (jobs commit in their own transactions, so no rollback trick)."""
    async with runtime.engine.begin() as conn:
        # change_marks keeps its rows (the migration made them; the triggers move them, the wipe too)
        names = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name != "change_marks"]
        if conn.dialect.name == "postgresql":
            await conn.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
        else:
            for name in names:
                await conn.execute(text(f"DELETE FROM {name}"))
            # AUTOINCREMENT tables keep their counters here; reset them as RESTART IDENTITY does
            await conn.execute(text("DELETE FROM sqlite_sequence"))


@pytest.fixture
async def runtime(db_url):
    """A runtime on the test database, emptied before each test; the mock world starts afresh."""
    reset_world("default")
    rt = Runtime.build(make_settings(db_url))
    await _wipe(rt)
    yield rt
    await rt.close()
    # A push loop left running would live on into later tests: on PostgreSQL its listener wakes on their
    # arrivals and sends their actions with this runtime's key (each test has its own). Fail the test that
    # left it, and stop it.
    left = [t for t in asyncio.all_tasks() if t.get_name() in ("push", "push-listen") and not t.done()]
    for task in left:
        task.cancel()
    await asyncio.gather(*left, return_exceptions=True)
    names = [t.get_name() for t in left]
    assert not left, f"a push loop was left running: {names} (stop the scheduler with stop_scheduler)"


@pytest.fixture
def pipeline(runtime) -> Pipeline:
    return Pipeline(runtime)


@pytest.fixture
async def client(runtime):
    app = create_app(runtime=runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        yield c


async def make_token(runtime: Runtime, role: Role = Role.admin, account_ids: list[int] | None = None) -> dict[str, str]:
    """Authorization headers for a fresh token (made the way `reposter token create` makes one)."""
    async with transaction(runtime.sessions) as session:
        _, secret = await create_token(session, data=TokenCreate(name=f"{role}-test", role=role,
                                                                 account_ids=account_ids or []), caller=None)
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
async def admin(runtime) -> dict[str, str]:
    return await make_token(runtime)


ROOT = Path(__file__).resolve().parents[1]
