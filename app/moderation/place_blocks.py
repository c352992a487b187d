"""What making a block of a place (a domain or a PDS: many authors at once) does, as an author block
does it: the block stored, the place's waiting posts stopped, its earlier reposts undone if asked,
and one audit event. The places themselves: app/moderation/domain_blocks.py and pds_blocks.py."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from app.actions.service import request_undo
from app.audit import record
from app.auth.caller import Caller
from app.models import Block
from app.moderation import repository
from app.moderation.schemas import BlockCreate


async def apply(session: AsyncSession, *, block: Block, who: ColumnElement[bool], data: BlockCreate, reason: str,
                undo_why: str, caller: Caller, detail: dict[str, Any]) -> dict:
    """Store `block`, stop the waiting actions `who` selects (skipped with `reason`), undo their done
    ones when the block says so (`undo_why`), and audit it with `detail`; what the API answers."""
    session.add(block)
    await session.flush()
    account_id, platform = block.account_id, block.platform
    unqueued = await repository.stop_waiting(session, account_id=account_id, author="", platform=platform,
                                             reason=reason, who=who)
    done = await repository.done_by_author(session, account_id=account_id, author="", pending=False,
                                           platform=platform, who=who) if data.undo_existing else []
    for action in done:
        await request_undo(session, action=action, caller=caller, why=undo_why)
    await record(session, caller, "block.create", target_type="block", target_id=block.author, account_id=account_id,
                 detail={"reason": data.reason, "undo_existing": data.undo_existing, "undo_queued": len(done),
                         "unqueued": unqueued, "scope": "global" if account_id is None else "account", **detail})
    return {"block": block, "undo_queued": len(done), "unqueued": unqueued}
