"""Every query on blocks and author lists."""

from collections.abc import Sequence

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.actions import states
from app.models import Account, Action, ActionStatus, AuthorList, Block


def _owner(account_id: int | None):
    return Block.account_id.is_(None) if account_id is None else Block.account_id == account_id


async def find_block(session: AsyncSession, account_id: int | None, author: str, platform: str | None = None) -> Block | None:
    """The block of `author` (its id, or a pending name); for a global block, on `platform`."""
    query = select(Block).where(_owner(account_id), Block.author == author)
    if account_id is None and platform is not None:
        query = query.where(or_(Block.platform == platform, Block.platform.is_(None)))
    return await session.scalar(query.limit(1))


async def find_block_named(session: AsyncSession, account_id: int | None, names: list[str]) -> Block | None:
    """The block whose id, pending name or shown handle is one of `names` (to lift it by any of them)."""
    query = select(Block).where(_owner(account_id), or_(Block.author.in_(names), Block.handle.in_(names)))
    return await session.scalar(query.order_by(Block.id).limit(1))


async def blocks_page(session: AsyncSession, account_id: int | None, *, limit: int, offset: int) -> tuple[Sequence[Block], int]:
    query = select(Block).where(_owner(account_id))
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    return (await session.scalars(query.order_by(Block.id.desc()).limit(limit).offset(offset))).all(), total or 0


def _by_author(author: str, pending: bool):
    """Actions of the author: by id once resolved; by id or the typed handle while pending."""
    if pending:
        return (Action.author_handle == author) | (Action.author_id == author)
    return func.lower(Action.author_id) == author


async def stop_waiting(session: AsyncSession, *, account_id: int | None, author: str, reason: str,
                       pending: bool = True, platform: str | None = None) -> int:
    """Mark the author's waiting actions skipped; returns how many."""
    waiting = states.sources(ActionStatus.skipped, among=states.WAITING)  # never one in flight (sending)
    query = update(Action).where(Action.status.in_(waiting), _by_author(author, pending))
    if account_id is not None:
        query = query.where(Action.account_id == account_id)
    elif platform is not None:
        query = query.where(Action.account_id.in_(select(Account.id).where(Account.platform == platform)))
    result = await session.execute(query.values(status=ActionStatus.skipped, reason=reason, next_attempt_at=None))
    return result.rowcount or 0


async def done_by_author(session: AsyncSession, *, account_id: int | None, author: str, pending: bool,
                         platform: str | None = None) -> Sequence[Action]:
    """Live (done, not yet undone) actions of an author, for undo on block or opt-out."""
    query = select(Action).where(Action.status == ActionStatus.done, Action.undo_requested_at.is_(None), _by_author(author, pending))
    if account_id is not None:
        query = query.where(Action.account_id == account_id)
    elif platform is not None:
        query = query.where(Action.account_id.in_(select(Account.id).where(Account.platform == platform)))
    return (await session.scalars(query)).all()


async def platforms_in_use(session: AsyncSession) -> list[str]:
    """The platforms of the enabled accounts."""
    return sorted(set(await session.scalars(select(Account.platform).where(Account.enabled.is_(True)))))


async def account_on(session: AsyncSession, platform: str) -> Account | None:
    """An enabled account on `platform` (the oldest), to ask that platform who a name is."""
    query = select(Account).where(Account.platform == platform, Account.enabled.is_(True)).order_by(Account.id)
    return await session.scalar(query.limit(1))


async def find_entry(session: AsyncSession, account_id: int, kind: str, author: str) -> AuthorList | None:
    return await session.scalar(select(AuthorList).where(AuthorList.account_id == account_id, AuthorList.kind == kind,
                                                         AuthorList.author == author))


async def find_entry_named(session: AsyncSession, account_id: int, kind: str, names: list[str]) -> AuthorList | None:
    """The entry whose id, pending name or shown handle is one of `names`."""
    query = select(AuthorList).where(AuthorList.account_id == account_id, AuthorList.kind == kind,
                                     or_(AuthorList.author.in_(names), AuthorList.handle.in_(names)))
    return await session.scalar(query.order_by(AuthorList.id).limit(1))


async def entries_page(session: AsyncSession, account_id: int, kind: str, *, limit: int,
                       offset: int) -> tuple[Sequence[AuthorList], int]:
    query = select(AuthorList).where(AuthorList.account_id == account_id, AuthorList.kind == kind)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    return (await session.scalars(query.order_by(AuthorList.id).limit(limit).offset(offset))).all(), total or 0
