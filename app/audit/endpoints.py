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


DETAIL = (
    "what changed. Updates (`rule.update`, `filters.update`, `account.update`): "
    "`{\"before\": {field: old value}, \"after\": {field: new value}}` over the fields that changed "
    "(for an account's `limits` and `config`, only their entries that changed; `\"credentials\": \"replaced\"` "
    "when new credentials were given, never their values; keys naming a secret show `[redacted]`). "
    "Actions (`action.approve`, `action.reject`, `action.undo`, `action.undone`, `action.undo_failed`): "
    "`post_id`, `author_id`, `author_handle` and `snippet` (the post's first 80 characters, `…` when cut), "
    "with `why` (an undo's cause: a block, an opt-out, an original edited or deleted; empty when asked for "
    "directly), `by` (who asked for the undo) and `error` (a given-up undo: why). Others: what was made or "
    "removed, e.g. a rule's fields, a block's reason")


class AuditRead(BaseModel):
    """One change someone made, as the audit log keeps it."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="the event's id")
    at: datetime = Field(description="when (UTC)")
    actor: str = Field(description="who: a token's name, id and role, or the system")
    action: str = Field(description="what, e.g. block.create, rule.update, action.undo, action.undone, "
                                    "action.undo_failed")
    account_id: PathId | None = Field(description="the account it concerns; null: none (tokens, global blocks)")
    target_type: str = Field(description="the kind of thing changed: account, rule, block, action, token...")
    target_id: str = Field(description="its id")
    detail: dict[str, Any] = Field(description=DETAIL)


@router.get("/audit", response_model=Page[AuditRead])
async def audit_log(session: SessionDep, caller: CallerDep, page: PageDep,
                    account_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                    action: Annotated[str | None, Query(description="e.g. block.create, rule.update")] = None):
    """The audit log, newest first."""
    if account_id is not None and not caller.reaches(account_id):
        raise NotFound(f"account {account_id} not found")
    ids = [account_id] if account_id is not None else None if caller.is_admin else caller.account_ids
    return await repository.page(session, account_ids=ids, action=action, page=page, into=AuditRead.model_validate)
