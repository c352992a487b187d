"""What the audit log says about an action: whose post it was and how it began, beside what was done."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.actions import repository
from app.audit import record
from app.models import Action

if TYPE_CHECKING:
    from app.auth.caller import Caller

# Enough of the post for a person scanning the log to know which one it was.
SNIPPET_MAX = 80


def snippet(text: str | None) -> str | None:
    """The text's first SNIPPET_MAX characters, whitespace folded, `…` when it was cut."""
    if text is None:
        return None
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET_MAX else flat[:SNIPPET_MAX - 1] + "…"


async def about(session: AsyncSession, action: Action) -> dict[str, Any]:
    """The post, its author (id and handle) and a snippet of its text: from the action's snapshot,
    or from the stored post for actions made before snapshots were kept."""
    text = (action.snapshot or {}).get("text")
    if text is None:
        text = await repository.post_text(session, action.seen_post_id)
    return {"post_id": action.post_id, "author_id": action.author_id, "author_handle": action.author_handle,
            "snippet": snippet(text)}


async def record_action(session: AsyncSession, caller: Caller | None, name: str, action: Action,
                        **extra: Any) -> None:
    """One audit event on `action`, its detail naming the post's author and a snippet, plus `extra`."""
    await record(session, caller, name, target_type="action", target_id=action.id, account_id=action.account_id,
                 detail={**await about(session, action), **extra})
