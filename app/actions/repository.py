"""Every query on actions for the API."""

from collections.abc import Callable, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Action
from app.pagination import Page, PageParams, T, paginate


async def get(session: AsyncSession, action_id: int) -> Action | None:
    return await session.get(Action, action_id)


async def page(session: AsyncSession, *, account_id: int, statuses: list[str] | None, page: PageParams,
               into: Callable[[Action], T]) -> Page[T]:
    """A page of the account's actions, newest first."""
    query = select(Action).where(Action.account_id == account_id)
    if statuses:
        query = query.where(Action.status.in_(statuses))
    return await paginate(session, query.order_by(Action.id.desc()), page=page, into=into)


async def done_by_author(session: AsyncSession, *, account_ids: list[int] | None, author_keys: set[str]) -> Sequence[Action]:
    """Live (done, not yet undone) actions of an author, for undo on block."""
    query = select(Action).where(Action.status == "done", Action.undo_requested_at.is_(None),
                                 (Action.author_handle.in_(author_keys)) | (Action.author_id.in_(author_keys)))
    if account_ids is not None:
        query = query.where(Action.account_id.in_(account_ids))
    return (await session.scalars(query)).all()


async def for_posts(session: AsyncSession, *, account_id: int, post_ids: list[str]) -> Sequence[Action]:
    """The account's actions (any kind, any status) on these posts, for preview."""
    if not post_ids:
        return []
    query = select(Action).where(Action.account_id == account_id, Action.post_id.in_(post_ids))
    return (await session.scalars(query.order_by(Action.id))).all()
