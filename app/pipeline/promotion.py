"""Promotion windows: a rule's `undo_after_hours` undoes what it sent, that many hours later.

When an action is sent (the dispatcher, or reconcile finding it on the platform), `undo_at` is
fixed from its rule as the rule is then: editing the rule later does not move it. The sending job
moves those whose time has come `done -> undoing` (`request_undo`, by `system`, audited with the
reason) and clears `undo_at`; the undo job removes them within the platform's undo limits, as any
undo. An undo that fails for good leaves the action `done` with the error, and it is not tried
again by itself (undo_at is cleared).
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.actions.repository import promotion_ended
from app.actions.service import request_undo
from app.db.base import utcnow
from app.db.dialect import skip_locked
from app.db.session import transaction
from app.engine.timing import undo_at
from app.models import Action, Rule
from app.pipeline.leases import free
from app.runtime import Runtime

log = logging.getLogger("reposter.promotion")

BATCH = 100


async def plan_undo(session: AsyncSession, action: Action) -> None:
    """Fix when a just-sent action's promotion window ends, from its rule as it is now."""
    await plan_undos(session, [action])


async def plan_undos(session: AsyncSession, actions: list[Action]) -> None:
    """`plan_undo` for many just-sent actions, their rules read in one query."""
    due = [a for a in actions if a.undo_at is None and a.sent_at is not None and a.rule_id is not None]
    if not due:
        return
    rules = {r.id: r for r in await session.scalars(select(Rule).where(Rule.id.in_({a.rule_id for a in due})))}
    for action in due:
        rule = rules.get(action.rule_id) if action.rule_id else None
        action.undo_at = undo_at(action.sent_at, rule.undo_after_hours if rule else None)  # type: ignore[arg-type]


async def undo_ended(runtime: Runtime) -> int:
    """Ask for the undo of every sent action whose promotion window has ended; returns how many.
    Rows another worker holds (leased) wait for the next round; on PostgreSQL, rows another worker
    is moving are skipped (SKIP LOCKED)."""
    now = utcnow()
    async with transaction(runtime.sessions) as session:
        query = (select(Action).where(promotion_ended(now), free(Action, now))
                 .order_by(Action.undo_at, Action.id).limit(BATCH))
        actions = list(await session.scalars(skip_locked(session, query)))
        for action in actions:
            action.reason = await _why(session, action)
            await request_undo(session, action=action, caller=None, why=action.reason)
            action.undo_at = None
            log.info("promotion window ended", extra={"account_id": action.account_id, "action_id": action.id,
                                                      "rule_id": action.rule_id, "post_id": action.post_id})
    return len(actions)


async def _why(session: AsyncSession, action: Action) -> str:
    """`promotion window of rule "name" ended (after 24 h)`."""
    rule = await session.get(Rule, action.rule_id) if action.rule_id else None
    name = rule.name if rule else (action.snapshot or {}).get("rule_name") or "(deleted)"
    hours = round((action.undo_at - action.sent_at).total_seconds() / 3600) if action.undo_at and action.sent_at else 0
    return f'promotion window of rule "{name}" ended (after {hours} h)'
