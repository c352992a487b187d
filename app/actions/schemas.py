"""Action shapes on the API."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.actions.snapshot import TERM_MAX, TERMS_MAX, TEXT_MAX
from app.actions.waiting import WaitingFor
from app.models.action import ActionKind, ActionStatus, OriginalState


class ActionSnapshot(BaseModel):
    """What was decided on, as the matcher saw it when it made the action (kept as it was then)."""

    text: str = Field(description=f"the post's text, its first {TEXT_MAX} characters")
    text_truncated: bool = Field(default=False, description=f"whether the text was longer than {TEXT_MAX} "
                                                            "characters and was cut")
    media_count: int | None = Field(default=None, description="how many images or videos the post had; null: the "
                                                              "platform did not say")
    author_display_name: str | None = Field(default=None, description="the author's display name (of the original "
                                            "author for a repost), at most 200 characters; null: none given")
    author_followers: int | None = Field(default=None, description="the author's follower count then; null: unknown")
    rule_name: str | None = Field(default=None, description="the matching rule's name then (at most 200 characters); "
                                                            "kept after the rule is renamed or deleted")
    reply_text: str | None = Field(default=None, description="a reply's text, as the account's setting was when "
                                   "it was queued; null for other kinds")
    terms: list[str] = Field(default_factory=list, description=f"the rule's query terms that held for this post, in "
                             f"query order, as the rule's language writes them (`#coffee`, `from:alice`, `-word`: the "
                             f"word was absent); at most {TERMS_MAX} terms of {TERM_MAX} characters; empty for a rule "
                             f"whose query is its scope alone")


class ActionRead(BaseModel):
    """One post the account acts (or decided not to act) on: its place in the queue or the log."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="the action's id (what /actions/{action_id} and approve, reject, undo take)")
    account_id: int = Field(description="the account that acts")
    rule_id: int | None = Field(description="the rule that matched; null once the rule is deleted")
    post_id: str = Field(description="the post's id on the platform")
    post_url: str | None = Field(description="a link to the original post")
    author_handle: str = Field(description="who wrote the post")
    kind: ActionKind = Field(description="repost, quote or like (as its rule says); reply: the account's one "
                                         "answer to an author who said a stop word to it (no rule)")
    status: ActionStatus = Field(description="queued (waits for its time), review (waits for a moderator), sending, "
                                             "done (on the platform), undoing (an undo was asked for and is carried "
                                             "out within the platform's limits; back to done with the error if the "
                                             "platform keeps refusing), undone, failed (retried while attempts "
                                             "remain), rejected, skipped (see reason)")
    reason: str | None = Field(description="why it was skipped or rejected, e.g. `filter: language de not in en`")
    error: str | None = Field(description="the platform's last error, while failing or undoing; on a done action "
                                          "after a given-up undo: `undo failed: ...`")
    attempts: int = Field(description="tries made to send it")
    next_attempt_at: datetime | None = Field(description="when it is tried next (UTC), while queued or failing; "
                                                         "while undoing, when the undo is")
    platform_action_id: str | None = Field(description="the repost's id on the platform, once sent")
    undo_requested_at: datetime | None = Field(description="when the undo was asked for (UTC), while undoing and once "
                                                           "undone (undone_at follows when the platform has done it); "
                                                           "null again if the undo was given up")
    undo_requested_by: str | None = Field(default=None, description="who asked for the undo: a token's name and "
                                          "role, or `system` (an original edited out of its rule or deleted); set "
                                          "with undo_requested_at")
    decided_by: str | None = Field(description="who approved or rejected it (a token's name and role); an undo "
                                               "does not change it (see undo_requested_by)")
    created_at: datetime = Field(description="when the rule matched (UTC)")
    sent_at: datetime | None = Field(description="when it went out (UTC)")
    undone_at: datetime | None = Field(description="when the platform confirmed the undo (UTC)")
    original_state: OriginalState | None = Field(default=None, description="deleted or edited once the original "
                                                 "was seen so after the repost; null: unchanged or unknown")
    original_checked_at: datetime | None = Field(default=None, description="when the original was last looked at "
                                                                           "(UTC)")
    scheduled_at: datetime | None = Field(default=None, description="the earliest send its rule's timing set (UTC; "
                                          "delay, spread or at); null: at once. The account's limits still apply")
    undo_at: datetime | None = Field(default=None, description="once sent by a rule with undo_after_hours: when "
                                     "the promotion window ends and it is undone (UTC); null once the undo is asked")
    snapshot: ActionSnapshot | None = Field(default=None, description="the post, author and rule as they were when "
                                            "the rule matched; null for actions made before snapshots were kept")
    waiting_for: WaitingFor | None = Field(default=None, description="while queued, failed or in review: what it "
                                           "waits for, worked out when read from the account's limits and sends now "
                                           "(`account paused`: disabled or needing attention); null when nothing "
                                           "holds it (it goes in the next dispatch round) or it no longer waits")
    expected_at: datetime | None = Field(default=None, description="while queued or failed: when it is expected to "
                                         "go (UTC): the account's next free slot, which every action queued on it "
                                         "shares (they go one after another, within the limits, in id order). Null "
                                         "in review or while the account is paused")
