"""The mock platform's harness: its fake server is a fresh in-process World."""

import httpx

from app.platforms.base import AccountContext
from app.platforms.mock.platform import MockPlatform
from app.platforms.mock.world import reset_world


class MockHarness:
    name = "mock"
    source = "tag:coffee"

    def __init__(self) -> None:
        self.platform = MockPlatform()
        self.world = reset_world("contract")
        self.requests: list[httpx.Request] = []
        self.world.add_author("reposter_bot")

    def context(self) -> AccountContext:
        return AccountContext(handle="reposter_bot", config={"world": "contract", "page_size": 2},
                              credentials={"token": "t"})

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient()

    def add_post(self, kind: str, *, text: str = "hello #coffee world") -> str:
        w = self.world
        if kind == "plain":
            return w.publish("alice", text if "@alice" in text else f"{text} @alice").id
        if kind == "reply":
            return w.publish("carol", "agreed #coffee", is_reply=True, reply_to_author="bob").id
        if kind == "repost":
            original = w.publish("bob", "hello #coffee")
            return w.publish("carol", "hello #coffee", is_repost=True, reposted_author=original.author).id
        if kind == "quote":
            original = w.publish("bob", "original")
            return w.publish("carol", "look #coffee", is_quote=True, quoted_post_id=original.id).id
        if kind == "media_links":
            return w.publish("carol", "pic #coffee https://example.com/page", media_count=1).id
        raise ValueError(kind)

    def fail_next(self, status: int, headers: dict[str, str] | None = None, times: int = 1) -> None:
        self.world.fail_next(status, headers, times)

    def is_reposted(self, post_id: str) -> bool:
        return ("reposter_bot", post_id) in self.world.reposts

    def set_followers(self, handles: list[str]) -> None:
        for handle in handles:
            self.world.add_author(handle)
            self.world.follow(handle, "reposter_bot")

    def validate_requests(self) -> None:
        """The mock speaks no HTTP: nothing to validate."""


def make_harness() -> MockHarness:
    return MockHarness()
