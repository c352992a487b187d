"""Action shapes on the API."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from app.models.action import ActionKind, ActionStatus, OriginalState


class ActionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    account_id: int
    rule_id: int | None
    post_id: str
    post_url: str | None
    author_handle: str
    kind: ActionKind
    status: ActionStatus
    reason: str | None
    error: str | None
    attempts: int
    next_attempt_at: datetime | None
    platform_action_id: str | None
    undo_requested_at: datetime | None
    decided_by: str | None
    created_at: datetime
    sent_at: datetime | None
    undone_at: datetime | None
    # `deleted` / `edited` once the original was seen so after the repost (None: unchanged or unknown)
    original_state: OriginalState | None = None
    original_checked_at: datetime | None = None
