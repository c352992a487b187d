"""The poll cursor: nothing missed after a pause, nothing returned twice.

Bluesky feeds page newest-first with opaque cursors; searchPosts can also filter by `since`
(its sortAt, inclusive). The cursor keeps `head`, the newest item time seen, and the keys of the
items seen within `overlap` below it. Each poll reads down to head - overlap and keeps the
unseen keys only: posts sharing the newest instant and posts indexed a little late are caught,
exactly once. When a poll stops at `max_pages` before reaching the previous head, the unread stretch is
kept as a `gap` (its floor, the oldest time read, the platform's page cursor, the keys read at
that oldest instant) and read first on the next polls; the head walk never reads into a gap,
so a post is returned by one walk only. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.platforms.base import Post

SEEN_CAP = 2000
MAX_GAPS = 4


def key_hash(key: str) -> str:
    """A short stable digest of an item key (post or repost uri) to keep the cursor small."""
    return hashlib.sha1(key.encode()).hexdigest()[:16]


def to_ms(moment: datetime) -> int:
    """Epoch milliseconds of an aware datetime."""
    return int(moment.timestamp() * 1000)


def ms_to_iso(ms: int) -> str:
    """Epoch milliseconds as the RFC 3339 string XRPC datetime parameters take."""
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Item:
    """One feed entry: its dedupe key, its sort time (epoch ms) and the normalized post."""

    key: str
    time: int
    post: Post


@dataclass
class Walk:
    """What one newest-first read returned: the accepted items and where it stopped."""

    items: list[Item] = field(default_factory=list)
    complete: bool = True  # reached the floor or the end of the feed
    page: str | None = None  # the platform cursor below the last page read
    oldest: int | None = None  # oldest item time read
    oldest_keys: list[str] = field(default_factory=list)

    def read(self, item: Item) -> None:
        """Note an item read (accepted or not) for the oldest-instant bookkeeping."""
        if self.oldest is None or item.time < self.oldest:
            self.oldest, self.oldest_keys = item.time, [item.key]
        elif item.time == self.oldest:
            self.oldest_keys.append(item.key)


@dataclass
class Gap:
    """A stretch [floor, until] not yet read because a poll hit max_pages."""

    floor: int
    until: int
    page: str | None
    seen: dict[str, int]

    def accepts(self, item: Item) -> bool:
        """Whether an item read while filling the gap is new."""
        return self.floor <= item.time <= self.until and key_hash(item.key) not in self.seen

    def after(self, walk: Walk) -> Gap | None:
        """The gap left after a walk through it: none when the walk reached its floor."""
        if walk.complete or walk.oldest is None:
            return None
        seen = {k: t for k, t in self.seen.items() if t <= walk.oldest}
        seen.update({key_hash(k): walk.oldest for k in walk.oldest_keys})
        return Gap(self.floor, walk.oldest, walk.page, seen)


@dataclass
class FeedCursor:
    """Where a source's polling stands."""

    head: int
    seen: dict[str, int] = field(default_factory=dict)
    gaps: list[Gap] = field(default_factory=list)

    @classmethod
    def decode(cls, raw: str | None) -> FeedCursor | None:
        """Read a cursor this module wrote; None for no cursor or an unreadable one."""
        if not raw:
            return None
        try:
            data = json.loads(raw)
            return cls(
                head=int(data["h"]),
                seen={str(k): int(v) for k, v in data.get("s", {}).items()},
                gaps=[Gap(int(g["f"]), int(g["u"]), g.get("p"), dict(g.get("s", {}))) for g in data.get("g", [])],
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def encode(self) -> str:
        """The cursor as a compact, deterministic string (equal states give equal strings)."""
        data: dict[str, Any] = {"v": 1, "h": self.head, "s": self.seen}
        if self.gaps:
            data["g"] = [{"f": g.floor, "u": g.until, "p": g.page, "s": g.seen} for g in self.gaps]
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    @classmethod
    def start(cls, items: list[Item], now: datetime, overlap_ms: int) -> FeedCursor:
        """The cursor after a first read: newest item seen, or now when the feed was empty."""
        cursor = cls(head=max((i.time for i in items), default=to_ms(now)))
        cursor.remember(items, overlap_ms)
        return cursor

    def floor(self, overlap_ms: int) -> int:
        """How far down a head walk reads: the overlap below the head, but not into a gap
        (a gap's own walk reads it, so the two never return the same post)."""
        return max([self.head - overlap_ms, *(g.until + 1 for g in self.gaps)])

    def accepts(self, item: Item, overlap_ms: int) -> bool:
        """Whether an item read from the top of the feed is new."""
        return item.time >= self.floor(overlap_ms) and key_hash(item.key) not in self.seen

    def remember(self, items: list[Item], overlap_ms: int) -> None:
        """Move the head to the newest item and keep the keys within the overlap below it."""
        self.head = max([self.head, *(i.time for i in items)])
        self.seen.update({key_hash(i.key): i.time for i in items})
        floor = self.head - overlap_ms
        kept = sorted(((t, k) for k, t in self.seen.items() if t >= floor), reverse=True)[:SEEN_CAP]
        self.seen = {k: t for t, k in kept}

    def open_gap(self, walk: Walk, overlap_ms: int) -> None:
        """A head walk stopped at max_pages above the previous head: keep the unread stretch
        below it for the next polls. (Stopping inside the overlap opens none: nothing there
        is new but late-indexed posts, which the overlap catches only on a best-effort basis.)"""
        if walk.complete or walk.oldest is None or walk.oldest <= self.head:
            return
        seen = dict(self.seen)
        seen.update({key_hash(k): walk.oldest for k in walk.oldest_keys})
        self.gaps.append(Gap(self.floor(overlap_ms), walk.oldest, walk.page, seen))
        if len(self.gaps) > MAX_GAPS:  # fold the two oldest: a post between them may come twice
            older, newer = self.gaps.pop(0), self.gaps.pop(0)
            merged = Gap(older.floor, newer.until, newer.page, {**older.seen, **newer.seen})
            self.gaps.insert(0, merged)
