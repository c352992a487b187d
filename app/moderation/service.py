"""Blocks and opt-outs: stop an author now, and undo their earlier reposts if asked."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.actions import repository as actions_repo
from app.actions.service import request_undo
from app.audit import record
from app.auth.caller import Caller
from app.errors import Conflict, NotFound
from app.models import AuthorList, Block
from app.moderation import repository
from app.moderation.schemas import AuthorEntry, BlockCreate


async def _undo_author(session: AsyncSession, *, account_id: int | None, author: str, caller: Caller, why: str) -> int:
    done = await actions_repo.done_by_author(session, account_ids=None if account_id is None else [account_id],
                                             author_keys={author})
    for action in done:
        await request_undo(session, action=action, caller=caller, why=why)
    return len(done)


async def add_block(session: AsyncSession, *, account_id: int | None, data: BlockCreate, caller: Caller) -> dict:
    """Block an author for one account (or all, when account_id is None)."""
    if await repository.find_block(session, account_id, data.author):
        raise Conflict(f"{data.author} is already blocked")
    block = Block(account_id=account_id, author=data.author, reason=data.reason, undo_existing=data.undo_existing,
                  created_by=caller.label)
    session.add(block)
    await session.flush()
    unqueued = await repository.stop_waiting(session, account_id=account_id, author=data.author,
                                             reason=f"blocked: {data.reason or 'no reason given'}")
    undone = 0
    if data.undo_existing:
        undone = await _undo_author(session, account_id=account_id, author=data.author, caller=caller,
                                    why=f"author blocked: {data.reason}")
    await record(session, caller, "block.create", target_type="block", target_id=data.author, account_id=account_id,
                 detail={"reason": data.reason, "undo_existing": data.undo_existing, "undo_queued": undone,
                         "unqueued": unqueued, "scope": "global" if account_id is None else "account"})
    return {"block": block, "undo_queued": undone, "unqueued": unqueued}


async def remove_block(session: AsyncSession, *, account_id: int | None, author: str, caller: Caller) -> None:
    """Unblock an author (earlier undos stay undone)."""
    block = await repository.find_block(session, account_id, author.strip().lstrip("@").lower())
    if block is None:
        raise NotFound(f"{author} is not blocked")
    await session.delete(block)
    await record(session, caller, "block.delete", target_type="block", target_id=block.author, account_id=account_id)


async def add_entry(session: AsyncSession, *, account_id: int, kind: str, data: AuthorEntry, caller: Caller) -> AuthorList:
    """Put an author on the account's opt-out or consent list."""
    if await repository.find_entry(session, account_id, kind, data.author):
        raise Conflict(f"{data.author} is already on the {kind} list")
    entry = AuthorList(account_id=account_id, kind=kind, author=data.author)
    session.add(entry)
    await session.flush()
    if kind == "optout":
        await repository.stop_waiting(session, account_id=account_id, author=data.author,
                                      reason="opted out: author is on the account's opt-out list")
        if data.undo_existing:
            await _undo_author(session, account_id=account_id, author=data.author, caller=caller, why="author opted out")
    await record(session, caller, f"{kind}.add", target_type=kind, target_id=data.author, account_id=account_id,
                 detail={"undo_existing": data.undo_existing})
    return entry


async def remove_entry(session: AsyncSession, *, account_id: int, kind: str, author: str, caller: Caller) -> None:
    """Take an author off a list."""
    entry = await repository.find_entry(session, account_id, kind, author.strip().lstrip("@").lower())
    if entry is None:
        raise NotFound(f"{author} is not on the {kind} list")
    await session.delete(entry)
    await record(session, caller, f"{kind}.remove", target_type=kind, target_id=entry.author, account_id=account_id)
