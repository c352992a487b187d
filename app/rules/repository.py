"""Every query on rules."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Rule


async def get(session: AsyncSession, rule_id: int) -> Rule | None:
    return await session.get(Rule, rule_id)


async def page(session: AsyncSession, *, account_id: int, limit: int, offset: int) -> tuple[Sequence[Rule], int]:
    query = select(Rule).where(Rule.account_id == account_id)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(query.order_by(Rule.priority.desc(), Rule.id).limit(limit).offset(offset))
    return rows.all(), total or 0


async def enabled_signature(session: AsyncSession) -> tuple:
    """A cheap fingerprint of the enabled rules: it changes whenever one is added, changed or removed."""
    row = (await session.execute(
        select(func.count(Rule.id), func.max(Rule.updated_at), func.max(Rule.id), func.sum(Rule.id))
    )).one()
    return tuple(row)


async def enabled_versions(session: AsyncSession) -> dict[int, datetime]:
    rows = await session.execute(select(Rule.id, Rule.updated_at).where(Rule.enabled.is_(True)))
    return {rid: at for rid, at in rows}


async def by_ids(session: AsyncSession, ids: list[int]) -> Sequence[Rule]:
    found: list[Rule] = []
    for start in range(0, len(ids), 1000):
        found.extend((await session.scalars(select(Rule).where(Rule.id.in_(ids[start : start + 1000])))).all())
    return found


async def for_account(session: AsyncSession, account_id: int, *, enabled_only: bool = True) -> Sequence[Rule]:
    query = select(Rule).where(Rule.account_id == account_id)
    if enabled_only:
        query = query.where(Rule.enabled.is_(True))
    return (await session.scalars(query)).all()
