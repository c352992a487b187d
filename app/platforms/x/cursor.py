"""Where an X source's polling stands: the newest id read, an empty start, unread gaps.

X pages newest first (next_token) and documents post ids as increasing with time, so the head is
the newest id read and `since_id` asks for what is newer. Two cases need more than that:
- a first poll that found nothing keeps the time it looked (`start`): the next poll asks for
  posts since then (`start_time`, less START_SLACK for posts indexed late), however many pages;
- a poll that stops at max_pages before reaching `since_id` keeps the unread stretch as a gap
  (its `since_id` or start time, and the `until_id` it stopped at), read first on the next
  polls until it closes, so a burst larger than max_pages is read whole.
A cursor with only a head is the bare id (as earlier versions stored it). Pure: no I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

START_SLACK_SECONDS = 3600
MAX_GAPS = 4


@dataclass
class Gap:
    """Posts newer than `since_id` (or created from `start`) and older than `until_id`, unread."""

    until_id: str
    since_id: str | None = None
    start: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {"u": self.until_id, "s": self.since_id, "t": self.start}


@dataclass
class XCursor:
    """A source's position."""

    head: str | None = None
    start: float | None = None  # epoch seconds of an empty first poll, while no post is read
    gaps: list[Gap] = field(default_factory=list)

    @classmethod
    def decode(cls, raw: str | None) -> XCursor | None:
        """Read a cursor; a bare id is a head. None (start over) for none or an unreadable one."""
        if not raw:
            return None
        if not raw.startswith("{"):
            return cls(head=raw) if raw.isdigit() else None
        try:
            data = json.loads(raw)
            gaps = [Gap(str(g["u"]), g.get("s"), g.get("t")) for g in data.get("g", [])]
            return cls(head=data.get("h"), start=data.get("t"), gaps=gaps)
        except (ValueError, TypeError, KeyError, AttributeError):
            return None

    def encode(self) -> str:
        """The bare head id when that is all there is, else compact JSON."""
        if self.head is not None and not self.gaps and self.start is None:
            return self.head
        data: dict[str, Any] = {"v": 2, "h": self.head, "t": self.start, "g": [g.to_json() for g in self.gaps]}
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    def add_gap(self, gap: Gap) -> None:
        """Keep a new gap; past MAX_GAPS the two oldest merge (a post between them may come twice)."""
        self.gaps.append(gap)
        if len(self.gaps) > MAX_GAPS:
            older, newer = self.gaps.pop(0), self.gaps.pop(0)
            self.gaps.insert(0, Gap(newer.until_id, older.since_id, older.start))


def start_time(start: float | None) -> str | None:
    """`start` less the slack, as X's start_time (YYYY-MM-DDTHH:mm:ssZ)."""
    if start is None:
        return None
    return datetime.fromtimestamp(start - START_SLACK_SECONDS, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
