"""The alerts job: open and resolve incidents as of now, then send what is due."""

from __future__ import annotations

from datetime import datetime

from app.alerts.delivery import deliver_due
from app.alerts.incidents import evaluate
from app.db.base import utcnow
from app.db.session import transaction
from app.runtime import Runtime


async def run(runtime: Runtime, *, now: datetime | None = None) -> int:
    """One round: evaluate (one transaction), then deliver (each message on its own); messages delivered."""
    now = now or utcnow()
    async with transaction(runtime.sessions) as session:
        await evaluate(session, now=now)
    return await deliver_due(runtime, now=now)
