"""After a crash: `sending` rows whose worker died are settled by asking the platform."""

from __future__ import annotations

import logging

from app.accounts.context import context_for
from app.db.base import utcnow
from app.db.session import transaction
from app.models import Account, Action, SeenPost
from app.pipeline.inbox import post_of
from app.pipeline.leases import claim, release
from app.platforms.base import PlatformError
from app.platforms.registry import get_platform

log = logging.getLogger("reposter.reconcile")


async def reconcile(runtime) -> int:
    """Settle `sending` rows nobody holds any more; returns how many were settled."""
    now = utcnow()
    async with transaction(runtime.sessions) as session:
        ids = await claim(session, Action, Action.status == "sending", order=[Action.id], limit=100,
                          owner=runtime.worker_id, now=now, seconds=runtime.settings.lease_seconds)
    for action_id in ids:
        await _settle(runtime, action_id)
    return len(ids)


async def _settle(runtime, action_id: int) -> None:
    async with transaction(runtime.sessions) as session:
        action = await session.get(Action, action_id)
        account = await session.get(Account, action.account_id)
        post = post_of(await session.get(SeenPost, action.seen_post_id))
    ctx = context_for(account, runtime.fernet, runtime.pending_credentials)
    client = get_platform(account.platform).action_client(ctx, runtime.http)
    try:
        reposted = await client.has_reposted(post) if action.kind == "repost" else None
    except PlatformError as exc:
        log.warning("reconcile: platform unavailable", extra={"action_id": action_id, "error": str(exc)})
        reposted = None  # unknown: a repost is sent again (idempotent), anything else waits for a person
    async with transaction(runtime.sessions) as session:
        action = await session.get(Action, action_id)
        _apply(action, reposted)
        await release(session, Action, [action_id])
    log.info("reconciled", extra={"action_id": action_id, "status": action.status})


def _apply(action: Action, reposted: bool | None) -> None:
    """Done if the platform has it; queued again if it has not (or if a repost, which is idempotent)."""
    if reposted is True:
        action.status, action.sent_at, action.error = "done", action.sent_at or utcnow(), None
    elif reposted is False or action.kind == "repost":
        # A repost sent twice is still one repost on every platform; try again.
        action.status, action.next_attempt_at = "queued", utcnow()
        action.attempts = max(0, action.attempts - 1)
    else:
        action.status, action.next_attempt_at = "failed", None
        action.error = "outcome unknown after a crash; check the platform before retrying"

