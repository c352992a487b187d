"""The engine and sessions. One engine per process, made from the settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def make_engine(url: str, *, pool_size: int = 10, max_overflow: int = 5) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and enforced foreign keys; PostgreSQL a pool of
    `pool_size` connections kept and `max_overflow` more at busy moments (REPOSTER_DB_POOL_SIZE,
    REPOSTER_DB_MAX_OVERFLOW)."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_size=pool_size, max_overflow=max_overflow, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_conn: DBAPIConnection, _record: object) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL survives any crash of the process (what the sending-before-calling rule
    # needs); only a power cut may lose the last commits. FULL would fsync on every commit.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded values after commit (the API serializes after committing)."""
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session in one transaction: committed on success, rolled back on error (jobs use this)."""
    async with sessions() as session, session.begin():
        yield session
