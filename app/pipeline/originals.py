"""Originals that change after the repost: deleted by their author, or edited.

Every `originals_check_seconds`, for `originals_check_days` after sending, a sent repost or quote
has its original looked up again (`ActionClient.fetch_post`), a few per tick so the platform's
limits hold. A deleted original marks the action (`original_state = deleted`; on platforms whose
repost records outlive the original, as Bluesky's do, our dangling repost is also removed). An
edited one is checked again against the rule, the scope, the blocks and the filters, and undone
when it no longer passes, with the reason on the action, in the audit log and in the log.
Streams that announce deletions and edits (Mastodon's `delete` and `status.update`, Jetstream's
deletes) call `recheck` at once instead of waiting for the next look.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.conditions import record_rate_limit
from app.actions import repository
from app.actions.service import request_undo
from app.config import Settings
from app.db.base import utcnow
from app.db.session import transaction
from app.engine.decide import stop_reason
from app.engine.scope import ScopeError, out_of_scope, parse_scope
from app.models import Account, Action, ActionKind, ActionStatus, OriginalState, Rule, SeenPost
from app.pipeline.calls import Result, Subject, call_and_record
from app.pipeline.fanout import within
from app.pipeline.inbox import post_of
from app.pipeline.leases import claim
from app.pipeline.views import account_view
from app.platforms.base import ActionClient, ActionRefused, PlatformError, Post, PostChange, RateLimited
from app.platforms.registry import get_platform
from app.query import QuerySyntaxError, matches
from app.rules.authors import indexed
from app.runtime import Runtime

log = logging.getLogger("reposter.originals")

# What an edit can change that a rule, a filter or a block looks at.
CONTENT = ("text", "lang", "hashtags", "mentions", "urls", "media_count", "is_reply", "reply_to_author",
           "is_quote", "quoted_post_id")
DELETED, EDITED = OriginalState.deleted, OriginalState.edited


def due(now: datetime, settings: Settings) -> ColumnElement[bool]:
    """Sent reposts and quotes, young enough to watch, not looked at for an interval."""
    return repository.originals_due(now, days=settings.originals_check_days, every=settings.originals_check_seconds)


async def check_due(runtime: Runtime) -> int:
    """Look up the originals due for a look; returns how many were found deleted or edited."""
    now = utcnow()
    async with transaction(runtime.sessions) as session:
        ids = await claim(session, Action, due(now, runtime.settings), order=[Action.sent_at, Action.id],
                          limit=runtime.settings.originals_batch, owner=runtime.worker_id, now=now,
                          seconds=runtime.settings.lease_seconds)
    changed, limited = 0, set[int]()
    for action_id in ids:
        changed += await _check_one(runtime, action_id, limited)
    return changed


async def _check_one(runtime: Runtime, action_id: int, limited: set[int]) -> int:
    """Fetch one original (calls.call_and_record: outside any transaction), then record what it became."""

    async def call(client: ActionClient, subject: Subject) -> Post | None:
        if subject.account.id in limited:
            return subject.post  # the account's lookups wait out a rate limit: nothing learnt this time
        try:
            return await within(runtime.settings.send_budget_seconds, client.fetch_post(subject.post),
                                f"{subject.account.platform}: looking up {subject.action.post_id}")
        except ActionRefused:
            return subject.post  # this platform cannot look a post up: nothing to learn
        except RateLimited:
            limited.add(subject.account.id)
            raise

    async def write(session: AsyncSession, result: Result[Post | None]) -> int:
        action = result.action
        action.original_checked_at = utcnow()
        stored = post_of(await session.get_one(SeenPost, action.seen_post_id))
        if result.error is not None:
            _lookup_failed(result)
            return 0
        if result.value is None:
            return await deleted(session, action)
        if changed(stored, result.value):
            return await edited(session, action, merged(stored, result.value))
        return 0

    return await call_and_record(runtime, action_id, call, write, what="original lookup") or 0


def _lookup_failed(result: Result[Post | None]) -> None:
    """A limit met looking originals up is recorded on its bucket (it holds sends only where the
    bucket is the account's shared one, Mastodon's, as any poll's would); other errors are logged."""
    error, action = result.error, result.action
    if isinstance(error, RateLimited):
        record_rate_limit(result.account, bucket=error.bucket, until=error.retry_at, during="poll", source="originals")
        return
    extra = {"account_id": action.account_id, "action_id": action.id, "post_id": action.post_id, "error": str(error)}
    if isinstance(error, PlatformError):
        log.warning("original lookup failed", extra=extra)
    else:
        log.error("original lookup failed: adapter error", exc_info=error, extra=extra)


def changed(old: Post, new: Post) -> bool:
    """Whether an edit touched anything a rule, filter or block looks at."""
    return any(getattr(old, name) != getattr(new, name) for name in CONTENT)


def merged(old: Post, new: Post) -> Post:
    """The post as stored, with the content the platform shows now (for a boost: the original's)."""
    return old.model_copy(update={name: getattr(new, name) for name in CONTENT})


async def deleted(session: AsyncSession, action: Action) -> int:
    """Mark an action whose original its author deleted; remove a repost that would dangle."""
    if action.original_state == DELETED or action.status != ActionStatus.done:
        return 0
    action.original_state = DELETED
    action.reason = "original deleted by its author"
    account = await session.get_one(Account, action.account_id)
    dangles = get_platform(account.platform).reposts_outlive_originals and action.kind == ActionKind.repost
    if dangles:
        action.reason += "; removing our repost, which would point at nothing"
        await request_undo(session, action=action, caller=None, why=action.reason)
    log.info("original deleted", extra={"account_id": action.account_id, "action_id": action.id,
                                        "post_id": action.post_id, "undo": dangles})
    return 1


async def edited(session: AsyncSession, action: Action, post: Post) -> int:
    """Keep the edited post, check it again, and undo the repost when it no longer passes."""
    if action.status != ActionStatus.done:
        return 0
    action.original_state = EDITED
    row = await session.get_one(SeenPost, action.seen_post_id)
    row.data = post.model_dump(mode="json")
    reason = await recheck_reason(session, action, post)
    log.info("original edited", extra={"account_id": action.account_id, "action_id": action.id,
                                       "post_id": action.post_id, "still_passes": reason is None, "reason": reason})
    if reason is None:
        return 1
    action.reason = f"original edited: {reason}"
    await request_undo(session, action=action, caller=None, why=action.reason)
    return 1


async def recheck_reason(session: AsyncSession, action: Action, post: Post) -> str | None:
    """Why the edited post would not be reposted now (None: it still passes)."""
    account = await session.get_one(Account, action.account_id)
    rule = await session.get(Rule, action.rule_id) if action.rule_id else None
    now = utcnow()
    view = await account_view(session, account, now)
    reason = stop_reason(post, view, now)
    if reason or rule is None:
        return reason
    try:
        node, scope = indexed(rule, parse_scope(rule.scope))  # the people it names, as their ids
    except (ScopeError, QuerySyntaxError):
        return None  # a rule that no longer parses is the organizer's to fix, not a reason to undo
    if rule.query.strip() and not matches(node, post):
        return f"no longer matches rule {rule.name!r}"
    outside = out_of_scope(scope, post, view.relations)
    return outside if outside and "not known yet" not in outside else None


async def recheck(runtime: Runtime, change: PostChange) -> int:
    """A stream said a post was deleted or edited: settle every live repost of it now."""
    fresh = change.post
    async with transaction(runtime.sessions) as session:
        count = 0
        for action, config in await repository.live_on(session, post_id=change.id, platform=change.platform):
            if not get_platform(change.platform).can_act_on(config, change.ref):
                continue  # the same id on another server is another post
            action.original_checked_at = utcnow()
            if fresh is None:
                count += await deleted(session, action)
                continue
            stored = post_of(await session.get_one(SeenPost, action.seen_post_id))
            if changed(stored, fresh):
                count += await edited(session, action, merged(stored, fresh))
    return count
