"""Every query on audit events."""

from collections.abc import Callable, Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditEvent
from app.pagination import Page, PageParams, T, paginate


async def page(session: AsyncSession, *, account_ids: Iterable[int] | None, action: str | None, page: PageParams,
               into: Callable[[AuditEvent], T]) -> Page[T]:
    """A page of the events on `account_ids` (all events for None), of one `action` if given, newest first."""
    query = select(AuditEvent)
    if account_ids is not None:
        query = query.where(AuditEvent.account_id.in_(list(account_ids)))
    if action:
        query = query.where(AuditEvent.action == action)
    return await paginate(session, query.order_by(AuditEvent.id.desc()), page=page, into=into)
