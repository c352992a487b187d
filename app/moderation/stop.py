""""Stop" by mention: an author who mentions the account with a stop word is put on its opt-out list.

The poller reads each account's `mentions` source (app/pipeline/poller.py) and hands the mentions
here instead of to the inbox. The author is the mention's author id (never a handle); the opt-out
goes through the same path as a moderator's (`service.put_on_list`: waiting posts of theirs are
not sent, earlier reposts undone when the account says so) and is audited as by the mention.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.engine.stop_words import stop_word_in
from app.models import Account, ListKind
from app.models.account import DEFAULT_STOP_WORDS
from app.models.token import Role
from app.moderation import repository
from app.moderation.identity import Resolved
from app.moderation.service import put_on_list
from app.platforms.base import Post

log = logging.getLogger("reposter.stop")


def by_mention(post: Post) -> Caller:
    """Who the audit log names for an opt-out made by this mention: the mention itself."""
    return Caller(token_id=None, name=f"by mention {post.url or post.id}", role=Role.moderator)


async def take_mentions(session: AsyncSession, *, account: Account, mentions: Sequence[Post]) -> int:
    """Opt out every author of `mentions` who says one of the account's stop words (the account
    itself aside); returns how many were put on the list now (one already on it counts nothing)."""
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
                                                           "mention_id": post.id})
        added += 1
        log.info("opted out by mention", extra={"account_id": account.id, "author": key, "post_id": post.id,
                                                "stop_word": word})
    return added
