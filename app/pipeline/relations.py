"""Follower, following, list and blocked-by sets from the platform, cached and refreshed on a schedule."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository as accounts_repo
from app.accounts.conditions import Severity, clear_condition, set_condition
from app.db.base import utcnow
from app.db.session import transaction
from app.engine.view import AccountView
from app.models import Account, RelationCache
from app.pipeline.calls import client_for
from app.platforms.base import PlatformError
from app.runtime import Runtime

log = logging.getLogger("reposter.relations")

FOLLOWERS = "followers"


async def fetch_relation(runtime: Runtime, account: Account, kind: str) -> set[str]:
    """Ask the platform for one set of people: followers, following, list:<id> or blocked_by."""
    client = client_for(runtime, account)
    if kind == FOLLOWERS:
        return await client.followers()
    if kind == "following":
        return await client.following()
    if kind == "blocked_by":
        getter = getattr(client, "blocked_by", None)
        return await getter() if getter else set()
    return await client.list_members(kind.removeprefix("list:"))


async def _ask(runtime: Runtime, account: Account, kind: str) -> tuple[set[str] | None, str | None, int | None]:
    """The platform calls of one refresh: (members, error, followers count when the list came back empty)."""
    try:
        members = await fetch_relation(runtime, account, kind)
    except PlatformError as exc:
        log.warning("relation refresh failed", extra={"account_id": account.id, "kind": kind, "error": str(exc)})
        return None, str(exc), None
    count = await _followers_count(runtime, account) if kind == FOLLOWERS and not members else None
    return members, None, count


async def _followers_count(runtime: Runtime, account: Account) -> int | None:
    """The followers the account's own profile reports (0 when the platform does not say; None:
    asking failed)."""
    counter = getattr(client_for(runtime, account), "followers_count", None)
    try:
        return (await counter() if counter else None) or 0
    except PlatformError as exc:
        log.warning("followers count unknown", extra={"account_id": account.id, "error": str(exc)})
        return None


async def _store(session: AsyncSession, account: Account, kind: str, members: set[str] | None, error: str | None,
                 count: int | None) -> set[str] | None:
    """Cache what the platform answered; on an error keep the old members and note the error."""
    row = await accounts_repo.relation(session, account.id, kind)
    if row is None:
        row = RelationCache(account_id=account.id, kind=kind, members=[])
        session.add(row)
    if members is None:
        row.error, row.refreshed_at = error, utcnow()
        return set(row.members) if row.members else None
    row.members, row.error, row.refreshed_at = sorted({m.lower() for m in members}), None, utcnow()
    if kind == FOLLOWERS:
        note_followers(account, members, count)
    return set(row.members)


async def refresh(session: AsyncSession, runtime: Runtime, account: Account, kind: str) -> set[str] | None:
    """Fetch and cache one relation now, inside the caller's transaction (a decision waits on it);
    on a platform error keep the old members and note the error."""
    members, error, count = await _ask(runtime, account, kind)
    return await _store(session, account, kind, members, error, count)


def note_followers(account: Account, members: set[str], count: int | None) -> None:
    """An empty followers list while the account's own profile reports followers is the server's
    doing (seen: an endpoint that lists nobody): a `followers` rule would skip every post, so the
    account says so (condition `followers_empty`) until the list has people or the count is 0.
    `count` None: the count could not be read, and the condition stays as it is."""
    if members or count == 0:
        clear_condition(account, "followers_empty")
        return
    if count is None:
        return
    message = (f"the {account.platform} server lists no followers for this account, though its profile "
               f"reports {count}; rules scoped to followers skip every post until it lists them")
    set_condition(account, "followers_empty", severity=Severity.warning, message=message)
    log.warning("followers list empty", extra={"account_id": account.id, "platform": account.platform,
                                                "followers_count": count})


async def ensure_relations(session: AsyncSession, runtime: Runtime, account: Account, view: AccountView,
                           kinds: list[str]) -> None:
    """Make sure the view knows these relations, fetching the ones never fetched."""
    for kind in kinds:
        members = await refresh(session, runtime, account, kind)
        if members is not None:
            view.relations[kind] = members


async def refresh_due(runtime: Runtime, *, max_age_seconds: float) -> int:
    """Refresh cached relations older than `max_age_seconds`; returns how many were stale. Each is
    loaded, asked for outside any transaction, and recorded in a transaction of its own."""
    async with transaction(runtime.sessions) as session:
        stale = await accounts_repo.relations_older_than(session, utcnow() - timedelta(seconds=max_age_seconds))
        due = [(account, row.kind) for row in stale
               if (account := await session.get(Account, row.account_id)) is not None and account.enabled]
    for account, kind in due:
        members, error, count = await _ask(runtime, account, kind)
        async with transaction(runtime.sessions) as session:
            fresh = await session.get(Account, account.id)
            if fresh is not None:  # deleted meanwhile: nothing to record
                await _store(session, fresh, kind, members, error, count)
    return len(stale)
