"""GET /audit: who did what, when. A scoped token sees only its accounts' events."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select

from app.deps import CallerDep, SessionDep
from app.errors import NotFound
from app.models import AuditEvent
from app.pagination import MAX_ID, Page, PageParams, PathId, page_params

router = APIRouter(tags=["audit"])


class AuditRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    action: str
    account_id: PathId | None
    target_type: str
    target_id: str
    detail: dict[str, Any]


@router.get("/audit", response_model=Page[AuditRead])
async def audit_log(session: SessionDep, caller: CallerDep, page: Annotated[PageParams, Depends(page_params)],
                    account_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                    action: Annotated[str | None, Query(description="e.g. block.create, rule.update")] = None):
    """The audit log, newest first."""
    query = select(AuditEvent)
    if account_id is not None:
        if not caller.reaches(account_id):
            raise NotFound(f"account {account_id} not found")
        query = query.where(AuditEvent.account_id == account_id)
    elif not caller.is_admin:
        query = query.where(AuditEvent.account_id.in_(list(caller.account_ids)))
    if action:
        query = query.where(AuditEvent.action == action)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(query.order_by(AuditEvent.id.desc()).limit(page.limit).offset(page.offset))
    return Page(items=[AuditRead.model_validate(r) for r in rows], total=total or 0, limit=page.limit, offset=page.offset)
