"""Faults that strike after the server acted: the fakes do the work, then the answer is lost.

This is what a proxy or a flaky network does to a real server (seen: a fault proxy in front of a
Mastodon-API server). The fakes of Mastodon, Bluesky and X each hold an `AfterActing` and pass
every write through `strike` once they have acted.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import httpx

RESET, BAD_GATEWAY = "reset", "502"


class ResetAfterActing(httpx.ReadError):
    """The connection was reset after the server acted (an httpx transport error, as a real reset is).
    A server on a real socket (bench/faults.py) turns it into a TCP reset."""


@dataclass
class AfterActing:
    """Faults to strike on writes: the next `arm`ed ones, then at random with `rate`."""

    queue: list[str] = field(default_factory=list)
    rate: float = 0.0
    kinds: tuple[str, ...] = (RESET, BAD_GATEWAY)
    rng: random.Random = field(default_factory=lambda: random.Random(9))
    struck: int = 0

    def arm(self, kind: str = RESET, times: int = 1) -> None:
        """The next `times` writes are done, then answered with `kind` (reset or 502)."""
        self.queue.extend([kind] * times)

    def strike(self, request: httpx.Request, response: httpx.Response) -> httpx.Response:
        """The answer to a write the server has carried out, or the fault that replaces it."""
        kind = self.queue.pop(0) if self.queue else None
        if kind is None and self.rate and self.rng.random() < self.rate:
            kind = self.rng.choice(self.kinds)
        if kind is None:
            return response
        self.struck += 1
        if kind == RESET:
            raise ResetAfterActing("connection reset by peer (after the server acted)", request=request)
        return httpx.Response(502, text="<html><body>502 Bad Gateway</body></html>",
                              headers={"content-type": "text/html"})
