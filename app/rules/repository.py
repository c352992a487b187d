"""Every query on rules."""

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Action, ActionStatus, Rule
from app.pagination import Page, PageParams, T, paginate

# (count, newest updated_at, sum of ids) of the rules table: what `signature` reads.
Signature = tuple[int, datetime | None, int | None]


async def get(session: AsyncSession, rule_id: int) -> Rule | None:
    return await session.get(Rule, rule_id)


async def page(session: AsyncSession, *, account_id: int, page: PageParams, into: Callable[[Rule], T]) -> Page[T]:
    """A page of the account's rules, highest priority first."""
    query = select(Rule).where(Rule.account_id == account_id).order_by(Rule.priority.desc(), Rule.id)
    return await paginate(session, query, page=page, into=into)


async def signature(session: AsyncSession) -> Signature:
    """(count, newest updated_at, sum of ids) of all rules: it changes whenever one is added, changed or removed."""
    row = (await session.execute(select(func.count(Rule.id), func.max(Rule.updated_at), func.sum(Rule.id)))).one()
    count, latest, id_sum = row
    return count, latest, id_sum


async def signatures_by_account(session: AsyncSession) -> dict[int, tuple[int, datetime | None]]:
    """Per account, (count, newest updated_at) of its enabled rules: it moves when they change."""
    rows = await session.execute(select(Rule.account_id, func.count(Rule.id), func.max(Rule.updated_at))
                                 .where(Rule.enabled.is_(True)).group_by(Rule.account_id))
    return {account_id: (count, latest) for account_id, count, latest in rows}


async def changed_since(session: AsyncSession, since: datetime | None) -> Sequence[Rule]:
    """Rules (enabled or not) changed at or after `since`; all rules when None."""
    query = select(Rule)
    if since is not None:
        query = query.where(Rule.updated_at >= since)
    return (await session.scalars(query)).all()


async def all_ids(session: AsyncSession) -> set[int]:
    return set(await session.scalars(select(Rule.id)))


async def by_ids(session: AsyncSession, ids: list[int]) -> Sequence[Rule]:
    found: list[Rule] = []
    for start in range(0, len(ids), 1000):
        found.extend((await session.scalars(select(Rule).where(Rule.id.in_(ids[start : start + 1000])))).all())
    return found


async def authors_pending(session: AsyncSession, *, limit: int) -> Sequence[Rule]:
    """Up to `limit` rules holding names not resolved to ids yet, oldest first."""
    query = select(Rule).where(Rule.authors_pending.is_(True)).order_by(Rule.id).limit(limit)
    return (await session.scalars(query)).all()


async def for_account(session: AsyncSession, account_id: int, *, enabled_only: bool = True) -> Sequence[Rule]:
    query = select(Rule).where(Rule.account_id == account_id)
    if enabled_only:
        query = query.where(Rule.enabled.is_(True))
    return (await session.scalars(query)).all()


# (matched, acted, skipped) of one rule's actions in a window: what the rules page shows.
RuleCounts = tuple[int, int, int]


async def counts_since(session: AsyncSession, *, account_id: int, since: datetime) -> dict[int, RuleCounts]:
    """Per rule of the account, its actions made since `since`: all (matched), those sent (done, or done
    and later undone) and those skipped. One grouped query; rules without actions are absent."""
    sent = func.sum(case((Action.status.in_([ActionStatus.done, ActionStatus.undone]), 1), else_=0))
    skipped = func.sum(case((Action.status == ActionStatus.skipped, 1), else_=0))
    query = (select(Action.rule_id, func.count(Action.id), sent, skipped)
             .where(Action.account_id == account_id, Action.rule_id.is_not(None), Action.created_at >= since)
             .group_by(Action.rule_id))
    return {rule_id: (int(matched), int(acted or 0), int(skips or 0))
            for rule_id, matched, acted, skips in await session.execute(query)}


async def ordered(session: AsyncSession, *, account_id: int) -> Sequence[Rule]:
    """All the account's rules, enabled or not, highest priority first (as the API lists them)."""
    query = select(Rule).where(Rule.account_id == account_id).order_by(Rule.priority.desc(), Rule.id)
    return (await session.scalars(query)).all()
