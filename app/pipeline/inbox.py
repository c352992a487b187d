"""The inbox: every post the service sees (polled, streamed or ingested) lands once in seen_posts."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow
from app.inputs import storable, unstorable
from app.models import SeenPost
from app.pipeline import repository
from app.platforms.base import Post
from app.platforms.handles import handle_key

log = logging.getLogger("reposter.inbox")


async def store(session: AsyncSession, posts: list[Post], *, source_account_id: int | None = None) -> int:
    """Insert posts not seen before (same platform and id is the same post); returns how many were new."""
    if not posts:
        return 0
    now = utcnow()
    unique = {(p.platform, inbox_key(p)): p for p in posts}
    rows = [
        {
            "platform": p.platform,
            "post_id": inbox_key(p),
            "author_id": p.author.id,
            "author_handle": handle_key(p.author.handle),
            "source_account_id": source_account_id,
            "data": p.model_dump(mode="json"),
            "seen_at": now,
        }
        for p in unique.values()
    ]
    return await repository.insert_posts(session, rows)


def storable_posts(posts: list[Post]) -> list[Post]:
    """The posts as the database can store them: a post holding a NUL character or a lone surrogate
    anywhere (PostgreSQL refuses the first in text and JSONB, UTF-8 cannot encode the second) comes
    back without them (U+FFFD for a surrogate); the others are returned as they are. Platforms'
    posts go through this where they arrive (the poller, the streamer): one such post would
    otherwise fail its whole poll, every time, and hold its source's cursor where it is."""
    return [_storable(post) for post in posts]


def _storable(post: Post) -> Post:
    try:  # the common case, cheaply: JSON written by pydantic's core, a NUL shows as \u0000
        if "\\u0000" not in post.model_dump_json():
            return post
    except ValueError:  # a lone surrogate cannot be written as UTF-8
        pass
    data = post.model_dump(mode="python")
    problems = unstorable(data)
    if not problems:  # a text that merely spells "\u0000"
        return post
    fixed = Post.model_validate(storable(data))
    log.warning("post text cleaned", extra={"platform": post.platform, "post_id": fixed.id,
                                            "problems": [p["msg"] for p in problems][:5]})
    return fixed


def inbox_key(post: Post) -> str:
    """What makes a post one post on its platform: its id, qualified by the instance for ids that
    are an instance's own (Mastodon: status 123 on one server is not status 123 on another)."""
    instance = post.ref.get("instance")
    return f"{instance}/{post.id}" if instance else post.id


def post_of(row: SeenPost) -> Post:
    """The normalized post a seen_posts row holds."""
    return Post.model_validate(row.data)


async def prune(session: AsyncSession, *, older_than: datetime, matched_through: int) -> int:
    """Forget matched posts older than `older_than` that no action refers to; returns how many."""
    return await repository.prune_posts(session, older_than=older_than, matched_through=matched_through)
