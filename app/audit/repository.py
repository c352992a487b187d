"""Every query on audit events."""

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditEvent
from app.pagination import Page, PageParams, T, paginate


def _scoped(query, account_ids: Iterable[int] | None):
    return query if account_ids is None else query.where(AuditEvent.account_id.in_(list(account_ids)))


async def page(session: AsyncSession, *, account_ids: Iterable[int] | None, action: str | None, page: PageParams,
               into: Callable[[AuditEvent], T], since: datetime | None = None,
               until: datetime | None = None) -> Page[T]:
    """A page of the events on `account_ids` (all events for None), of one `action` if given, at or after
    `since` and before `until` if given, newest first."""
    query = _scoped(select(AuditEvent), account_ids)
    if action:
        query = query.where(AuditEvent.action == action)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    return await paginate(session, query.order_by(AuditEvent.id.desc()), page=page, into=into)


REVIEW_DECISIONS = ("action.approve", "action.reject")


async def reviews_since(session: AsyncSession, *, account_ids: list[int], since: datetime) -> dict[int, int]:
    """{account id: posts approved or rejected since `since`} (accounts with none are left out)."""
    query = (select(AuditEvent.account_id, func.count())
             .where(AuditEvent.account_id.in_(account_ids), AuditEvent.action.in_(REVIEW_DECISIONS),
                    AuditEvent.at >= since)
             .group_by(AuditEvent.account_id))
    return {account_id: count for account_id, count in await session.execute(query) if account_id is not None}


async def actions(session: AsyncSession, *, account_ids: Iterable[int] | None) -> Sequence[str]:
    """The kinds of event (block.create, rule.update...) that occur on `account_ids` (all for None)."""
    query = _scoped(select(AuditEvent.action).distinct(), account_ids)
    return (await session.scalars(query.order_by(AuditEvent.action))).all()
