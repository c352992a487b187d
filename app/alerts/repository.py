"""Every query of the alerts: subscriptions, incidents, the outbox, and the facts conditions are read from."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.dialect import skip_locked
from app.models import Account, Action, ActionStatus
from app.models.alert import AlertDelivery, AlertIncident, AlertSubscription, DeliveryStatus
from app.pagination import Page, PageParams, paginate


async def get(session: AsyncSession, subscription_id: int) -> AlertSubscription | None:
    return await session.get(AlertSubscription, subscription_id)


async def page(session: AsyncSession, *, account_ids: Sequence[int] | None, account_id: int | None,
               page: PageParams, into) -> Page:
    """Subscriptions, oldest first: of `account_ids` (None: every one, globals included)."""
    query = select(AlertSubscription).order_by(AlertSubscription.id)
    if account_ids is not None:
        query = query.where(AlertSubscription.account_id.in_(account_ids))
    if account_id is not None:
        query = query.where(AlertSubscription.account_id == account_id)
    return await paginate(session, query, page=page, into=into)


async def enabled(session: AsyncSession) -> Sequence[AlertSubscription]:
    return (await session.scalars(select(AlertSubscription).where(AlertSubscription.enabled)
                                  .order_by(AlertSubscription.id))).all()


async def watched_accounts(session: AsyncSession, account_ids: set[int] | None) -> Sequence[Account]:
    """Enabled accounts (of `account_ids`; None: all)."""
    query = select(Account).where(Account.enabled).order_by(Account.id)
    if account_ids is not None:
        query = query.where(Account.id.in_(account_ids))
    return (await session.scalars(query)).all()


async def oldest_by_account(session: AsyncSession, status: ActionStatus) -> dict[int, datetime]:
    """Per account, when its oldest action in `status` was written (or, when its rule's timing held it
    to later, was scheduled: a timed repost has not waited while it was not due)."""
    since = func.coalesce(Action.scheduled_at, Action.created_at)
    rows = await session.execute(select(Action.account_id, func.min(since))
                                 .where(Action.status == status.value).group_by(Action.account_id))
    return {account_id: oldest for account_id, oldest in rows if oldest is not None}


async def open_incidents(session: AsyncSession) -> Sequence[AlertIncident]:
    return (await session.scalars(select(AlertIncident).where(AlertIncident.resolved_at.is_(None)))).all()


async def incident(session: AsyncSession, subscription_id: int, kind: str, subject: str) -> AlertIncident | None:
    return await session.scalar(select(AlertIncident).where(
        AlertIncident.subscription_id == subscription_id, AlertIncident.kind == kind, AlertIncident.subject == subject))


async def insert_incident(session: AsyncSession, row: AlertIncident) -> bool:
    """Add a new incident; False if another worker added it first (the unique key holds it once)."""
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


async def reopen(session: AsyncSession, row: AlertIncident, *, message: str, now: datetime) -> bool:
    """Open a resolved incident again; False if it was open already (another worker got there first)."""
    result = await session.execute(
        update(AlertIncident).where(AlertIncident.id == row.id, AlertIncident.resolved_at.is_not(None))
        .values(resolved_at=None, opened_at=now, message=message, number=AlertIncident.number + 1)
        .execution_options(synchronize_session=False))
    await session.refresh(row)
    return result.rowcount == 1  # type: ignore[attr-defined]


async def resolve(session: AsyncSession, row: AlertIncident, *, now: datetime) -> bool:
    """Resolve an open incident; False if it was resolved already."""
    result = await session.execute(
        update(AlertIncident).where(AlertIncident.id == row.id, AlertIncident.resolved_at.is_(None))
        .values(resolved_at=now).execution_options(synchronize_session=False))
    await session.refresh(row)
    return result.rowcount == 1  # type: ignore[attr-defined]


async def orphans(session: AsyncSession, now: datetime) -> Sequence[AlertDelivery]:
    """Deliveries left `sending` by a worker that died or gave them back (lease gone)."""
    free = (AlertDelivery.lease_expires_at.is_(None)) | (AlertDelivery.lease_expires_at < now)
    query = select(AlertDelivery).where(AlertDelivery.status == DeliveryStatus.sending.value, free)
    return (await session.scalars(skip_locked(session, query))).all()


async def deliveries(session: AsyncSession, *, subscription_id: int, page: PageParams, into) -> Page:
    query = select(AlertDelivery).where(AlertDelivery.subscription_id == subscription_id) \
        .order_by(AlertDelivery.id.desc())
    return await paginate(session, query, page=page, into=into)


async def incidents(session: AsyncSession, *, subscription_id: int, page: PageParams, into) -> Page:
    query = select(AlertIncident).where(AlertIncident.subscription_id == subscription_id) \
        .order_by(AlertIncident.opened_at.desc(), AlertIncident.id.desc())
    return await paginate(session, query, page=page, into=into)
