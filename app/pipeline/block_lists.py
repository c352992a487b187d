"""The block-list job: read each subscribed list when due and apply who joined and who left.

As the relation caches (app/pipeline/relations.py): the due subscriptions are claimed (their next
refresh moved on, so another worker leaves them), each list is read outside any transaction, and
what it gave is recorded in a transaction of its own with the subscription locked. A read that
fails keeps the members and writes the error on the subscription, where the API shows it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from app.db.base import utcnow
from app.db.session import transaction
from app.models import Account, BlockListKind, BlockListSubscription
from app.moderation import lists, repository
from app.pipeline.calls import client_for
from app.runtime import Runtime

log = logging.getLogger("reposter.block_lists")

BATCH = 50  # subscriptions claimed per run; the rest wait for the next one


async def refresh_due(runtime: Runtime, *, now: datetime | None = None) -> int:
    """Refresh the subscriptions due; returns how many were read."""
    now = now or utcnow()
    interval = runtime.settings.block_list_refresh_seconds
    async with transaction(runtime.sessions) as session:
        due = await repository.due_subscriptions(session, now, BATCH)
    done = 0
    for sub_id in due:
        async with transaction(runtime.sessions) as session:
            # a worker that dies after claiming leaves the list for one interval, then it is due again
            if not await repository.claim_subscription(session, sub_id, now, now + timedelta(seconds=interval)):
                continue
            sub = await session.get(BlockListSubscription, sub_id)
            account = await session.get(Account, sub.account_id) if sub is not None else None
            if sub is None or account is None:
                continue
            uri, kind = sub.source, sub.kind
        if kind == BlockListKind.reposter_account:
            fetched = None  # read from the database, in the transaction that applies it
        else:
            fetched = await lists.fetch_modlist(client_for(runtime, account), uri)
        async with transaction(runtime.sessions) as session:
            fresh = await repository.subscription(session, account.id, sub_id, lock=True)
            if fresh is None:  # unsubscribed meanwhile
                continue
            if fetched is None:
                fetched = await lists.fetch_account_blocks(session, fresh)
            applied = await lists.apply(session, account, fresh, fetched, None, interval=interval)
        done += 1
        if applied.added or applied.removed:
            log.info("block list refreshed", extra={"account_id": account.id, "subscription_id": sub_id,
                                                    "added": applied.added, "removed": applied.removed})
    return done
