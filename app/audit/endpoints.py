"""GET /audit: who did what, when. A scoped token sees only its accounts' events."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from app.audit import repository
from app.deps import CallerDep, PageDep, SessionDep
from app.errors import NotFound, error_responses
from app.pagination import MAX_ID, Page, PathId

# 404: an account_id the token does not reach.
router = APIRouter(tags=["audit"], responses=error_responses(404))


class AuditRead(BaseModel):
    """One change someone made, as the audit log keeps it."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="the event's id")
    at: datetime = Field(description="when (UTC)")
    actor: str = Field(description="who: a token's name, id and role, or the system")
    action: str = Field(description="what, e.g. block.create, rule.update, action.undo")
    account_id: PathId | None = Field(description="the account it concerns; null: none (tokens, global blocks)")
    target_type: str = Field(description="the kind of thing changed: account, rule, block, action, token...")
    target_id: str = Field(description="its id")
    detail: dict[str, Any] = Field(description="what changed, e.g. the fields of an update")


@router.get("/audit", response_model=Page[AuditRead])
async def audit_log(session: SessionDep, caller: CallerDep, page: PageDep,
                    account_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                    action: Annotated[str | None, Query(description="e.g. block.create, rule.update")] = None):
    """The audit log, newest first."""
    if account_id is not None and not caller.reaches(account_id):
        raise NotFound(f"account {account_id} not found")
    ids = [account_id] if account_id is not None else None if caller.is_admin else caller.account_ids
    return await repository.page(session, account_ids=ids, action=action, page=page, into=AuditRead.model_validate)
