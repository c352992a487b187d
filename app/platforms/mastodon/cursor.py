"""Where a Mastodon source's polling stands, without ever comparing status ids.

Mastodon documents status ids as opaque strings: servers differ (Mastodon's snowflakes, a second
plus a hash, ULIDs) and some list timelines in delivery order, not id order. So the cursor keeps
only what the server itself gave for "newer than what was read" (the `min_id` of the Link
header's `prev` relation) and the ids returned lately (to drop a status a server returns twice).

A timeline that was empty at the first poll has no such position yet: the cursor then keeps the
time it was found empty (`since`), and the next poll walks back from the newest status to the
bottom (or to statuses created more than START_SLACK before `since`). When that walk stops at
max_pages, the `max_id` it stopped at (`gap`) is read first on the next polls, so a burst larger
than a page, or than max_pages, is read whole. Pure: no I/O.

A `tags:a,b` source read with one call per tag (servers that ignore `any[]`) keeps one such
state per tag under `tags`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

SEEN_CAP = 200
# How far before the time a timeline was found empty a status may have been created and still be
# new (federation delivers late); older ones appearing later (a home timeline backfilled after a
# follow, old posts fetched from another server) are history, as on a first poll.
START_SLACK_SECONDS = 3600


@dataclass
class TimelineState:
    """One timeline's position: the server's `min_id`, an empty start's time, an unread gap."""

    min_id: str | None = None
    since: float | None = None  # epoch seconds the timeline was found empty
    gap: str | None = None  # max_id below which a walk from the top still has to read
    seen: list[str] = field(default_factory=list)

    def remember(self, ids: list[str]) -> None:
        """Keep the latest ids returned (newest last), at most SEEN_CAP."""
        known = set(ids)
        self.seen = [i for i in self.seen if i not in known] + list(dict.fromkeys(ids))
        self.seen = self.seen[-SEEN_CAP:]

    def floor(self) -> float | None:
        """Statuses created before this (epoch seconds) are history to a walk from the top."""
        return None if self.since is None else self.since - START_SLACK_SECONDS

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"m": self.min_id, "s": self.seen}
        if self.since is not None:
            data["t"] = self.since
        if self.gap is not None:
            data["g"] = self.gap
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TimelineState:
        since = data.get("t")
        return cls(
            min_id=None if data.get("m") is None else str(data["m"]),
            since=None if since is None else float(since),
            gap=None if data.get("g") is None else str(data["g"]),
            seen=[str(i) for i in data.get("s") or []],
        )


@dataclass
class SourceCursor:
    """A source's cursor: one state, or one per tag when the tags are read one call each."""

    state: TimelineState | None = None
    tags: dict[str, TimelineState] | None = None
    # For a several-tag source: whether the instance takes `any[]`, and when that was asked.
    any_tags: bool | None = None
    checked_at: float | None = None

    @classmethod
    def decode(cls, raw: str | None) -> SourceCursor | None:
        """Read a cursor; a bare id (what earlier versions stored) is a `min_id`."""
        if not raw:
            return None
        if not raw.startswith("{"):
            return cls(state=TimelineState(min_id=raw))
        try:
            data = json.loads(raw)
            probe = {"any_tags": data.get("any"), "checked_at": data.get("checked")}
            if "tags" in data:
                return cls(tags={str(t): TimelineState.from_json(s) for t, s in data["tags"].items()}, **probe)
            return cls(state=TimelineState.from_json(data), **probe)
        except (ValueError, TypeError, AttributeError, KeyError):
            return None

    def encode(self) -> str:
        """The cursor as a compact, deterministic string."""
        if self.tags is not None:
            data: dict[str, Any] = {"v": 2, "tags": {t: s.to_json() for t, s in sorted(self.tags.items())}}
        else:
            data = {"v": 2, **(self.state or TimelineState()).to_json()}
        if self.any_tags is not None:
            data.update({"any": self.any_tags, "checked": self.checked_at})
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    def for_tag(self, tag: str) -> TimelineState | None:
        """One tag's state; a source read with `any[]` before hands its state to each tag (the
        server's `min_id` is a position in the server's statuses, valid for every timeline)."""
        if self.tags is not None:
            return self.tags.get(tag)
        if self.state is None:
            return None
        return TimelineState(min_id=self.state.min_id, since=self.state.since, seen=list(self.state.seen))

    def combined(self) -> TimelineState | None:
        """The state for one `any[]` call (from per-tag states: the first tag's, the rest may repeat)."""
        if self.tags is None:
            return self.state
        return next(iter(self.tags.values()), None)


def newer_position(response_links: dict[str, str], items: list[dict[str, Any]]) -> str | None:
    """The server's own "newer than this page": the `min_id` (or `since_id`) of Link `prev`,
    else the first (newest) status's id."""
    prev = response_links.get("prev")
    if prev:
        params = httpx.URL(prev).params
        for name in ("min_id", "since_id"):
            if params.get(name):
                return params[name]
    return str(items[0]["id"]) if items else None


def older_position(response_links: dict[str, str], items: list[dict[str, Any]]) -> str | None:
    """The server's own "older than this page": the `max_id` of Link `next`, else the last id."""
    nxt = response_links.get("next")
    if nxt and httpx.URL(nxt).params.get("max_id"):
        return httpx.URL(nxt).params["max_id"]
    return str(items[-1]["id"]) if items else None


def created_at(status: dict[str, Any]) -> float | None:
    """A status's created_at as epoch seconds (None when missing or unreadable)."""
    try:
        return datetime.fromisoformat(str(status["created_at"]).replace("Z", "+00:00")).timestamp()
    except (KeyError, ValueError):
        return None
