"""The process's shared pieces: settings, engine, sessions, HTTP client, cipher, worker id."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field

import httpx
from cryptography.fernet import Fernet
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.config import Settings
from app.db.session import make_engine, make_sessionmaker
from app.pipeline.arrivals import Arrivals


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
    fernet: Fernet
    # credentials adapters refreshed during calls made outside a transaction, waiting to be saved
    pending_credentials: dict[int, str] = field(default_factory=dict)
    # kicked when posts land in the inbox (ingest, streams): wakes this process's push path
    arrivals: Arrivals = field(default_factory=Arrivals)
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}")

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        """Engine, sessions and one shared HTTP client for the platforms."""
        engine = make_engine(settings.database_url, pool_size=settings.db_pool_size,
                             max_overflow=settings.db_max_overflow)
        # polls and sends each up to max_concurrent_calls at once, plus streams and upkeep
        limits = httpx.Limits(max_connections=2 * settings.max_concurrent_calls + 32,
                              max_keepalive_connections=settings.max_concurrent_calls)
        http = httpx.AsyncClient(timeout=httpx.Timeout(20.0, connect=10.0), follow_redirects=False, limits=limits,
                                 headers={"User-Agent": "reposter/0.1 (+https://github.com/reposter)"})
        runtime = cls(settings, engine, make_sessionmaker(engine), http, settings.fernet())
        if settings.worker_id:
            runtime.worker_id = settings.worker_id
        return runtime

    async def close(self) -> None:
        """Close the HTTP client and the engine."""
        await self.http.aclose()
        await self.engine.dispose()
