"""Arrivals: the in-process signal that new posts are in the inbox, so the push path wakes at once.

It only says "look now": many kicks before the push loop looks are one look, and a kick nobody
waits for costs nothing. Kept free of app imports so that the Runtime can own one.
"""

from __future__ import annotations

import asyncio


class Arrivals:
    """A coalescing wake-up: `kick()` from whoever stored posts, `wait()` + `clear()` in the push loop."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.kicks = 0  # how many kicks there were (logs, tests)

    def kick(self) -> None:
        """New posts are in the inbox (committed): wake the push loop."""
        self.kicks += 1
        self._event.set()

    async def wait(self) -> None:
        """Until the next kick (at once if one came since the last `clear`)."""
        await self._event.wait()

    def clear(self) -> None:
        """Called before a look, so that a kick during the look makes another one."""
        self._event.clear()

    def is_set(self) -> bool:
        """Whether a kick is waiting to be looked at."""
        return self._event.is_set()
