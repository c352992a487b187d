"""The mock platform's world: authors, follows, posts and reposts, all in this process.

A world is what a real platform's servers hold. The demo and the tests publish into it; the
mock adapters read and act on it exactly as the real adapters do on a real platform.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

from app.platforms.base import Author, Post


@dataclass
class Failure:
    status: int
    headers: dict[str, str]
    times: int


@dataclass
class World:
    name: str
    authors: dict[str, Author] = field(default_factory=dict)  # by lower-cased handle
    follows: set[tuple[str, str]] = field(default_factory=set)  # (follower, followee) handles
    blocks: set[tuple[str, str]] = field(default_factory=set)  # (blocker, blocked) handles
    lists: dict[str, set[str]] = field(default_factory=dict)
    posts: list[Post] = field(default_factory=list)
    reposts: dict[tuple[str, str], str] = field(default_factory=dict)  # (account, post id) -> repost id
    likes: dict[tuple[str, str], str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # account handle -> its API token
    failures: list[Failure] = field(default_factory=list)
    calls: int = 0
    # A slow or hanging server: every call takes this long first (float("inf"): never answers).
    stall_seconds: float = 0.0
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def next_id(self) -> str:
        return str(next(self._ids))

    def add_author(self, handle: str, **fields) -> Author:
        """Create (or return) an author; fields as in `Author`."""
        key = handle.lower()
        if key not in self.authors:
            fields.setdefault("created_at", datetime(2020, 1, 1, tzinfo=UTC))
            fields.setdefault("followers_count", 0)
            fields.setdefault("is_bot", False)
            self.authors[key] = Author(id=f"u{len(self.authors) + 1}", handle=handle, **fields)
        return self.authors[key]

    def follow(self, follower: str, followee: str) -> None:
        """`follower` follows `followee` (both handles); follower counts follow."""
        pair = (follower.lower(), followee.lower())
        if pair not in self.follows:
            self.follows.add(pair)
            target = self.authors.get(followee.lower())
            if target is not None:
                target.followers_count = (target.followers_count or 0) + 1

    def publish(self, handle: str, text: str, **fields) -> Post:
        """Publish a post by `handle`; hashtags, mentions and links are read from the text."""
        author = self.add_author(handle)
        words = text.split()
        post_id = self.next_id()
        post = Post(
            platform="mock",
            id=post_id,
            url=f"mock://{self.name}/@{author.handle}/{post_id}",
            author=author.model_copy(),
            text=text,
            created_at=fields.pop("created_at", None) or datetime.now(UTC),
            hashtags=fields.pop("hashtags", None) or _marked(words, "#"),
            mentions=fields.pop("mentions", None) or _marked(words, "@"),
            urls=fields.pop("urls", None) or [w for w in words if w.startswith(("http://", "https://"))],
            media_count=fields.pop("media_count", 0),
            is_reply=fields.pop("is_reply", False),
            is_repost=fields.pop("is_repost", False),
            is_quote=fields.pop("is_quote", False),
            # the mock knows every post: not marked sensitive unless published so
            sensitive=fields.pop("sensitive", False),
            **fields,
        )
        with self._lock:
            self.posts.append(post)
        return post

    def find(self, post_id: str) -> Post | None:
        """A post by id (None once deleted)."""
        return next((p for p in self.posts if p.id == post_id), None)

    def edit(self, post_id: str, text: str, **fields) -> Post:
        """The author edits a post: new text (tags, mentions and links read from it again)."""
        old = self.find(post_id)
        if old is None:
            raise KeyError(post_id)
        words = text.split()
        changes = {
            "text": text,
            "hashtags": [w[1:].strip(".,!?:;").lower() for w in words if w.startswith("#") and len(w) > 1],
            "mentions": [w[1:].strip(".,!?:;").lower() for w in words if w.startswith("@") and len(w) > 1],
            "urls": [w for w in words if w.startswith(("http://", "https://"))],
            **fields,
        }
        new = old.model_copy(update=changes)
        with self._lock:
            self.posts = [new if p.id == post_id else p for p in self.posts]
        return new

    def delete(self, post_id: str) -> None:
        """The author deletes a post; reposts of it vanish with it."""
        with self._lock:
            self.posts = [p for p in self.posts if p.id != post_id]
            for key in [k for k in self.reposts if k[1] == post_id]:
                del self.reposts[key]

    def fail_next(self, status: int, headers: dict[str, str] | None = None, times: int = 1) -> None:
        """The next `times` calls fail with `status` (test hook: outages, 429s, revoked tokens)."""
        self.failures.append(Failure(status, headers or {}, times))

    def take_failure(self) -> Failure | None:
        """The failure the current call should meet, if any."""
        with self._lock:
            self.calls += 1
            if not self.failures:
                return None
            failure = self.failures[0]
            failure.times -= 1
            if failure.times <= 0:
                self.failures.pop(0)
            return failure


_worlds: dict[str, World] = {}


def _marked(words: list[str], mark: str) -> list[str]:
    """The words carrying `mark` (# or @), without it, trailing punctuation or case."""
    return [w[1:].strip(".,!?:;").lower() for w in words if w.startswith(mark) and len(w) > 1]


def get_world(name: str = "default") -> World:
    """The named world of this process (created empty on first use)."""
    if name not in _worlds:
        _worlds[name] = World(name)
    return _worlds[name]


def reset_world(name: str = "default") -> World:
    """Start the named world afresh (tests)."""
    _worlds[name] = World(name)
    return _worlds[name]
