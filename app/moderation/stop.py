""""Stop" by mention: an author who mentions the account with a stop word is put on its opt-out list.

The poller reads each account's `mentions` source (app/pipeline/poller.py) and hands the mentions
here instead of to the inbox. The author is the mention's author id (never a handle); the opt-out
goes through the same path as a moderator's (`service.put_on_list`: waiting posts of theirs are
not sent, earlier reposts undone when the account says so) and is audited as by the mention.

Where the account's owner allows it (`stop_reply`), the author is told so in one reply: an action
of kind `reply` on the mention, queued in the same transaction and sent by the dispatcher as any
action is (limits, leases, a lost answer settled by asking the platform). The unique (account,
post, kind) row makes it one reply per mention, whoever polls the mention and however often.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.actions.snapshot import snapshot_of
from app.auth.caller import Caller
from app.db.base import utcnow
from app.engine.stop_words import stop_word_in
from app.models import Account, ActionKind, ActionStatus, ListKind
from app.models.account import DEFAULT_STOP_REPLY, DEFAULT_STOP_WORDS
from app.models.token import Role
from app.moderation import repository
from app.moderation.identity import Resolved
from app.moderation.service import put_on_list
from app.pipeline import inbox
from app.pipeline import repository as pipeline_repository
from app.platforms.base import MENTIONS, Post
from app.platforms.handles import handle_key

log = logging.getLogger("reposter.stop")


def by_mention(post: Post) -> Caller:
    """Who the audit log names for an opt-out made by this mention: the mention itself."""
    return Caller(token_id=None, name=f"by mention {post.url or post.id}", role=Role.moderator)


async def take_mentions(session: AsyncSession, *, account: Account, mentions: Sequence[Post]) -> int:
    """Opt out every author of `mentions` who says one of the account's stop words (the account
    itself aside), and queue the account's reply to them where it answers; returns how many were
    put on the list now (one already on it counts nothing and gets no reply)."""
    if not account.stop_words_enabled:
        return 0
    added = 0
    for post in mentions:
        word = stop_word_in(post.text, account.stop_words or DEFAULT_STOP_WORDS)
        key = post.author.id.lower()
        if word is None or key == (account.platform_user_id or "").lower():
            continue
        if await repository.find_entry(session, account.id, ListKind.optout, key) is not None:
            continue
        who = Resolved(name=key, author_id=post.author.id, handle=post.author.handle.lower())
        await put_on_list(session, account=account, kind=ListKind.optout, who=who, undo=account.stop_undo_existing,
                          caller=by_mention(post), detail={"stop_word": word, "mention": post.url or post.id,
                                                           "mention_id": post.id, "reply": account.stop_reply})
        added += 1
        log.info("opted out by mention", extra={"account_id": account.id, "author": key, "post_id": post.id,
                                                "stop_word": word, "reply": account.stop_reply})
        if account.stop_reply:
            await queue_reply(session, account=account, mention=post)
    return added


async def queue_reply(session: AsyncSession, *, account: Account, mention: Post) -> int | None:
    """Queue the account's reply to `mention` (its text as the setting is now, kept in the action's
    snapshot); the id of the new action, None when the mention has one already."""
    seen_id = await _stored(session, account, mention)
    now = utcnow()
    text = account.stop_reply_text or DEFAULT_STOP_REPLY
    row = {"account_id": account.id, "rule_id": None, "seen_post_id": seen_id, "post_id": mention.id,
           "post_url": mention.url, "author_id": mention.author.id, "author_handle": handle_key(mention.author.handle),
           "kind": ActionKind.reply, "status": ActionStatus.queued, "reason": None, "text": None,
           "next_attempt_at": now, "created_at": now, "updated_at": now,
           "snapshot": {**snapshot_of(mention, None, []), "reply_text": text}}
    inserted = await pipeline_repository.insert_actions(session, [row])
    if not inserted:
        return None
    log.info("reply queued", extra={"account_id": account.id, "action_id": inserted[0][0], "post_id": mention.id})
    return inserted[0][0]


async def _stored(session: AsyncSession, account: Account, mention: Post) -> int:
    """The mention's inbox row (the action's subject), stored now if it is not there: seen by this
    account alone, unless the account lists `mentions` as a feed (then by all, as that feed stores it)."""
    visible_to = None if MENTIONS in (account.sources or ()) else account.id
    await inbox.store(session, [mention], source_account_id=visible_to)
    seen_id = await pipeline_repository.seen_post_id(session, platform=mention.platform,
                                                     post_id=inbox.inbox_key(mention))
    if seen_id is None:  # just stored, or stored before: it is there
        raise RuntimeError(f"the mention {mention.id} is not in the inbox after storing it")
    return seen_id
