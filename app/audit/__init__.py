"""Recording audit events; every change that a person asked for goes through here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditEvent

if TYPE_CHECKING:
    from app.auth.caller import Caller


async def record(
    session: AsyncSession,
    caller: Caller | None,
    action: str,
    *,
    target_type: str,
    target_id: Any,
    account_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add one audit event (flushed with the caller's transaction, so it commits with the change)."""
    session.add(
        AuditEvent(
            actor=caller.label if caller else "system",
            actor_token_id=caller.token_id if caller else None,
            action=action,
            account_id=account_id,
            target_type=target_type,
            target_id=str(target_id),
            detail=detail or {},
        )
    )
