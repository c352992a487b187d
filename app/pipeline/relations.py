"""Follower, following, list and blocked-by sets from the platform, cached and refreshed on a schedule."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.conditions import Severity, clear_condition, set_condition
from app.accounts.context import context_for
from app.db.base import utcnow
from app.engine.view import AccountView
from app.models import Account, RelationCache
from app.platforms.base import PlatformError
from app.platforms.registry import get_platform

log = logging.getLogger("reposter.relations")


async def fetch_relation(runtime, account: Account, kind: str) -> set[str]:
    """Ask the platform for one set of people: followers, following, list:<id> or blocked_by."""
    client = get_platform(account.platform).action_client(context_for(account, runtime.fernet), runtime.http)
    if kind == "followers":
        return await client.followers()
    if kind == "following":
        return await client.following()
    if kind == "blocked_by":
        getter = getattr(client, "blocked_by", None)
        return await getter() if getter else set()
    return await client.list_members(kind.removeprefix("list:"))


async def refresh(session: AsyncSession, runtime, account: Account, kind: str) -> set[str] | None:
    """Fetch and cache one relation; on a platform error keep the old members and note the error."""
    row = await session.get(RelationCache, (account.id, kind))
    if row is None:
        row = RelationCache(account_id=account.id, kind=kind, members=[])
        session.add(row)
    try:
        members = await fetch_relation(runtime, account, kind)
    except PlatformError as exc:
        row.error, row.refreshed_at = str(exc), utcnow()
        log.warning("relation refresh failed", extra={"account_id": account.id, "kind": kind, "error": str(exc)})
        return set(row.members) if row.members else None
    row.members, row.error, row.refreshed_at = sorted({m.lower() for m in members}), None, utcnow()
    if kind == "followers":
        await note_followers(runtime, account, members)
    return set(row.members)


async def note_followers(runtime, account: Account, members: set[str]) -> None:
    """An empty followers list while the account's own profile reports followers is the server's
    doing (seen: an endpoint that lists nobody): a `followers` rule would skip every post, so the
    account says so (condition `followers_empty`) until the list has people or the count is 0."""
    if members:
        clear_condition(account, "followers_empty")
        return
    client = get_platform(account.platform).action_client(context_for(account, runtime.fernet), runtime.http)
    counter = getattr(client, "followers_count", None)
    try:
        count = await counter() if counter else None
    except PlatformError as exc:
        log.warning("followers count unknown", extra={"account_id": account.id, "error": str(exc)})
        return
    if not count:
        clear_condition(account, "followers_empty")
        return
    message = (f"the {account.platform} server lists no followers for this account, though its profile "
               f"reports {count}; rules scoped to followers skip every post until it lists them")
    set_condition(account, "followers_empty", severity=Severity.warning, message=message)
    log.warning("followers list empty", extra={"account_id": account.id, "platform": account.platform,
                                                "followers_count": count})


async def ensure_relations(session: AsyncSession, runtime, account: Account, view: AccountView, kinds: list[str]) -> None:
    """Make sure the view knows these relations, fetching the ones never fetched."""
    for kind in kinds:
        members = await refresh(session, runtime, account, kind)
        if members is not None:
            view.relations[kind] = members


async def refresh_due(session: AsyncSession, runtime, *, max_age_seconds: float) -> int:
    """Refresh cached relations older than `max_age_seconds`; returns how many were refreshed."""
    stale = (await session.scalars(
        select(RelationCache).where(RelationCache.refreshed_at < utcnow() - timedelta(seconds=max_age_seconds))
    )).all()
    for row in stale:
        account = await session.get(Account, row.account_id)
        if account is not None and account.enabled:
            await refresh(session, runtime, account, row.kind)
    return len(stale)
