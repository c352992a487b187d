"""Fill what post views leave out: followers count, bio, account age and unknown handles.

Post views carry a profileViewBasic (no followers count, no description); Jetstream carries only
DIDs. app.bsky.actor.getProfiles (25 actors a call) gives profileViewDetailed; answers are cached
per process. The authors of the posts in hand are read again unless their profile is younger than
`author_max_age`: an author's bio is where #nobot is said, and no post view carries it, so a cached
bio would hide an opt-out for as long as the cache lasts (seen on the dev network: an hour). A poll
reads its authors afresh (one call per 25 authors per poll); a pushed post does so at most every
STREAM_AUTHOR_MAX_AGE seconds per author. Reply parents and mentions keep the cache (handles only).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from app.platforms.base import Author, PlatformError, Post
from app.platforms.bluesky.normalize import author_from_view

BATCH = 25  # getProfiles accepts at most 25 actors
POLL_AUTHOR_MAX_AGE = 0.0  # a poll is one batch: its authors' bios are read afresh
STREAM_AUTHOR_MAX_AGE = 30.0  # a pushed post comes alone: one read per author per 30 s at most

Fetch = Callable[[list[str]], Awaitable[list[dict[str, Any]]]]


class ProfileCache:
    """DID -> Author, with a time to live and a size bound (least recently used goes first)."""

    def __init__(self, ttl: float = 3600.0, max_entries: int = 20_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, Author]] = OrderedDict()
        self._fetched: dict[str, float] = {}

    def get(self, did: str) -> Author | None:
        """The cached author, or None when absent or stale."""
        entry = self._entries.get(did)
        if entry is None or entry[0] < time.monotonic():
            return None
        self._entries.move_to_end(did)
        return entry[1]

    def put(self, author: Author) -> None:
        """Cache an author by DID."""
        self._entries[author.id] = (time.monotonic() + self.ttl, author)
        self._fetched[author.id] = time.monotonic()
        self._entries.move_to_end(author.id)
        while len(self._entries) > self.max_entries:
            self._fetched.pop(self._entries.popitem(last=False)[0], None)

    def fresh(self, did: str, max_age: float) -> bool:
        """True when the DID's profile was put at most `max_age` seconds ago (and is not stale)."""
        fetched = self._fetched.get(did)
        return self.get(did) is not None and fetched is not None and time.monotonic() - fetched <= max_age

    def handle(self, did: str) -> str | None:
        """The cached handle of a DID, if any."""
        author = self.get(did)
        return author.handle if author else None


def dids_to_know(posts: list[Post]) -> set[str]:
    """Every DID whose profile would complete these posts: authors, reply parents, mentions."""
    dids = {p.author.id for p in posts}
    dids |= {p.reply_to_author for p in posts if p.reply_to_author and p.reply_to_author.startswith("did:")}
    dids |= {m for p in posts for m in p.mentions if m.startswith("did:")}
    return dids


async def hydrate(posts: list[Post], cache: ProfileCache, fetch: Fetch, author_max_age: float | None = None) -> None:
    """Complete the posts in place from the cache, fetching the missing profiles in batches, and
    the authors' own when older than `author_max_age` seconds (None: any cached one will do).

    A failed fetch leaves the posts as they are (unknown stays unknown, never wrong)."""
    authors = {p.author.id for p in posts}
    stale = set() if author_max_age is None else {d for d in authors if not cache.fresh(d, author_max_age)}
    missing = sorted(did for did in dids_to_know(posts) if did in stale or cache.get(did) is None)
    for start in range(0, len(missing), BATCH):
        try:
            views = await fetch(missing[start : start + BATCH])
        except PlatformError:
            break
        for view in views:
            cache.put(author_from_view(view))
    for post in posts:
        _complete(post, cache)


def fresh_over_cached(fresh: Author, cached: Author) -> Author:
    """The author as the post gives it, with the cached profile's facts where the post has none
    (a handle equal to the DID is none: Jetstream gives only the DID)."""
    given = {name: value for name, value in fresh if value is not None}
    if given.get("handle") == fresh.id:
        del given["handle"]
    return cached.model_copy(update=given)


def _complete(post: Post, cache: ProfileCache) -> None:
    """Merge cached profile facts into one post: they fill what the post left unknown, never
    replace what it says (a bio the post carries, with a #nobot added since, beats the cache)."""
    known = cache.get(post.author.id)
    if known is not None:
        post.author = fresh_over_cached(post.author, known)
        if post.url and "/profile/did:" in post.url:
            post.url = post.url.replace(f"/profile/{known.id}/", f"/profile/{known.handle}/")
    if post.reply_to_author and post.reply_to_author.startswith("did:"):
        post.reply_to_author = cache.handle(post.reply_to_author) or post.reply_to_author
    handles = [cache.handle(m) for m in post.mentions if m.startswith("did:")]
    post.mentions += [h for h in handles if h and h not in post.mentions]
