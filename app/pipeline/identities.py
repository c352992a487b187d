"""The identity step: resolve names kept pending, and refresh the handles shown for resolved ones.

Blocks, opt-out and consent entries and rules whose names could not be resolved when they were
added (the platform was unreachable; or rows from before ids were kept) are resolved here, a
bounded batch per run; resolved entries have their display handle refreshed once a day (a handle
change moves nothing: the id stays, only the label follows). Platform calls are made outside
any transaction; the outcomes are written in a new one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository as accounts_repo
from app.db.base import utcnow
from app.db.session import transaction
from app.engine.scope import ScopeError, parse_scope
from app.models import Account, AuthorList, Block, Rule
from app.moderation import repository
from app.moderation.identity import Resolved, client_for, resolve_one
from app.pipeline import repository as pipeline_repo
from app.query import QuerySyntaxError, parse
from app.rules import repository as rules_repo
from app.rules.authors import any_pending, rule_names
from app.runtime import Runtime

log = logging.getLogger("reposter.identities")

BATCH = 50
REFRESH_BATCH = 10
REFRESH_AFTER = timedelta(days=1)


@dataclass
class _Task:
    """One row to resolve or refresh, with the account whose platform is asked."""

    row: Block | AuthorList | Rule
    account: Account | None
    names: list[str]


async def resolve_due(runtime: Runtime, *, limit: int = BATCH, refresh_after: timedelta = REFRESH_AFTER) -> int:
    """Resolve pending names and refresh handles older than `refresh_after`; returns how many rows changed."""
    now = utcnow()
    async with transaction(runtime.sessions) as session:
        tasks = await _due(session, now - refresh_after, limit)
    answers: dict[tuple[int, str], Resolved | None] = {}
    for task in tasks:
        if task.account is None:
            continue
        client = client_for(runtime, task.account)
        for name in task.names:
            answers[(id(task), name)] = await resolve_one(client, name)
    async with transaction(runtime.sessions) as session:
        changed = [await _apply(session, task, {n: answers.get((id(task), n)) for n in task.names}, now)
                   for task in tasks if task.account is not None]
    return sum(changed)


async def _due(session: AsyncSession, stale: datetime, limit: int) -> list[_Task]:
    """Pending rows, the longest unasked first (a name nobody has cannot hold up the others), then
    a few resolved ones whose handle was checked before `stale` (refreshing costs the account's
    rate limit: at most REFRESH_BATCH a run)."""
    rows: list[Block | AuthorList] = []
    models: tuple[type[Block] | type[AuthorList], ...] = (Block, AuthorList)
    for model in models:
        for pending, size in ((True, limit), (False, REFRESH_BATCH)):
            rows += await repository.due_for_check(session, model, pending=pending, stale=stale, limit=size)
    tasks = [_Task(row, await _account_of(session, row), [row.author]) for row in rows]
    for rule in await rules_repo.authors_pending(session, limit=limit):
        tasks.append(_Task(rule, await accounts_repo.get(session, rule.account_id), _pending_names(rule)))
    return tasks


async def _account_of(session: AsyncSession, row: Block | AuthorList) -> Account | None:
    """The account whose platform resolves the row: its own, or for a global block one on its platform."""
    if row.account_id is not None:
        return await accounts_repo.get(session, row.account_id)
    platform = getattr(row, "platform", None)
    if platform is None:
        used = await accounts_repo.platforms_in_use(session)
        platform = used[0] if len(used) == 1 else None
    return None if platform is None else await accounts_repo.first_enabled_on(session, platform)


def _pending_names(rule: Rule) -> list[str]:
    """The names the rule holds that have no id yet (rules from before ids: all of them)."""
    try:
        scope = parse_scope(rule.scope)
        names = rule_names(parse(rule.query, scoped=scope.is_set), scope)
    except (QuerySyntaxError, ScopeError):
        return []
    known = rule.authors or {}
    return [name for name in names if not (known.get(name) or {}).get("id")]


async def _apply(session: AsyncSession, task: _Task, answers: dict[str, Resolved | None], now: datetime) -> int:
    """Write what the platform said about one row; 1 when it changed."""
    found = await pipeline_repo.by_id(session, type(task.row), task.row.id)
    if isinstance(found, Rule):
        return _apply_rule(found, answers)
    if not isinstance(found, (Block, AuthorList)):
        return 0
    row = found
    row.checked_at = now
    who = answers.get(row.author)
    if who is None or who.pending:
        if who is None and row.pending:
            log.warning("pending author not found on the platform", extra={"author": row.author, "row_id": row.id})
        return 0
    if row.pending:
        return await _resolved(session, row, who)
    row.handle = who.handle  # refreshed label; the id never moves
    return 1


async def _resolved(session: AsyncSession, row: Block | AuthorList, who: Resolved) -> int:
    """A pending row gets its id; if that person already has a row, the pending one goes."""
    twin: Block | AuthorList | None
    if isinstance(row, Block):
        twin = await repository.find_block(session, row.account_id, who.key, row.platform)
    else:
        twin = await repository.find_entry(session, row.account_id, row.kind, who.key)
    if twin is not None and twin.id != row.id:
        await session.delete(row)
    else:
        row.author, row.handle, row.pending = who.key, who.handle, False
    log.info("pending author resolved", extra={"author": who.name, "author_id": who.author_id, "row_id": row.id})
    return 1


def _apply_rule(rule: Rule, answers: dict[str, Resolved | None]) -> int:
    """Fill the rule's resolved names (and list the ones it holds, for rules from before ids)."""
    authors = dict(rule.authors or {})
    for name in _pending_names(rule):
        who = answers.get(name)
        if who is not None and not who.pending:
            authors[name] = {"id": who.author_id, "handle": who.handle}
        else:
            authors[name] = authors.get(name) or {"id": None, "handle": name}
    changed = authors != (rule.authors or {})
    if changed:
        rule.authors = authors  # a new value: the matcher sees updated_at move and re-indexes the rule
    rule.authors_pending = any_pending(authors)
    return int(changed)
