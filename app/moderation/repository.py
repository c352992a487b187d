"""Every query on blocks and author lists."""

from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Action, AuthorList, Block


async def find_block(session: AsyncSession, account_id: int | None, author: str) -> Block | None:
    owner = Block.account_id.is_(None) if account_id is None else Block.account_id == account_id
    return await session.scalar(select(Block).where(owner, Block.author == author))


async def blocks_page(session: AsyncSession, account_id: int | None, *, limit: int, offset: int) -> tuple[Sequence[Block], int]:
    owner = Block.account_id.is_(None) if account_id is None else Block.account_id == account_id
    query = select(Block).where(owner)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    return (await session.scalars(query.order_by(Block.id.desc()).limit(limit).offset(offset))).all(), total or 0


async def stop_waiting(session: AsyncSession, *, account_id: int | None, author: str, reason: str) -> int:
    """Mark the author's waiting actions skipped; returns how many."""
    query = update(Action).where(Action.status.in_(("queued", "review", "failed")),
                                 (Action.author_handle == author) | (Action.author_id == author))
    if account_id is not None:
        query = query.where(Action.account_id == account_id)
    result = await session.execute(query.values(status="skipped", reason=reason, next_attempt_at=None))
    return result.rowcount or 0


async def find_entry(session: AsyncSession, account_id: int, kind: str, author: str) -> AuthorList | None:
    return await session.scalar(select(AuthorList).where(AuthorList.account_id == account_id, AuthorList.kind == kind,
                                                         AuthorList.author == author))


async def entries_page(session: AsyncSession, account_id: int, kind: str, *, limit: int,
                       offset: int) -> tuple[Sequence[AuthorList], int]:
    query = select(AuthorList).where(AuthorList.account_id == account_id, AuthorList.kind == kind)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    return (await session.scalars(query.order_by(AuthorList.id).limit(limit).offset(offset))).all(), total or 0
