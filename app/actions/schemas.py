"""Action shapes on the API."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.models.action import ActionKind, ActionStatus, OriginalState


class ActionRead(BaseModel):
    """One post the account acts (or decided not to act) on: its place in the queue or the log."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="the action's id (what /actions/{action_id} and approve, reject, undo take)")
    account_id: int = Field(description="the account that acts")
    rule_id: int | None = Field(description="the rule that matched; null once the rule is deleted")
    post_id: str = Field(description="the post's id on the platform")
    post_url: str | None = Field(description="a link to the original post")
    author_handle: str = Field(description="who wrote the post")
    kind: ActionKind = Field(description="repost, quote or like")
    status: ActionStatus = Field(description="queued (waits for its time), review (waits for a moderator), sending, "
                                             "done, failed (retried while attempts remain), rejected, undone, "
                                             "skipped (see reason)")
    reason: str | None = Field(description="why it was skipped or rejected, e.g. `filter: language de not in en`")
    error: str | None = Field(description="the platform's last error, while failing")
    attempts: int = Field(description="tries made to send it")
    next_attempt_at: datetime | None = Field(description="when it is tried next (UTC), while queued or failing")
    platform_action_id: str | None = Field(description="the repost's id on the platform, once sent")
    undo_requested_at: datetime | None = Field(description="when undo was asked for (UTC); undone_at follows once "
                                                           "the platform has done it")
    decided_by: str | None = Field(description="who approved, rejected or asked to undo it (a token's name)")
    created_at: datetime = Field(description="when the rule matched (UTC)")
    sent_at: datetime | None = Field(description="when it went out (UTC)")
    undone_at: datetime | None = Field(description="when the platform confirmed the undo (UTC)")
    original_state: OriginalState | None = Field(default=None, description="deleted or edited once the original "
                                                 "was seen so after the repost; null: unchanged or unknown")
    original_checked_at: datetime | None = Field(default=None, description="when the original was last looked at "
                                                                           "(UTC)")
