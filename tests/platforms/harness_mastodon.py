"""The contract suite's view of Mastodon: a fake instance that answers as the docs say."""

from __future__ import annotations

import httpx

from app.platforms.base import AccountContext
from app.platforms.mastodon.platform import MastodonPlatform
from tests.platforms.mastodon.contract import mastodon_contract
from tests.platforms.mastodon.fake_server import BASE, FakeMastodon


class MastodonHarness:
    """Drives a FakeMastodon; the source is the home timeline (the only one that shows boosts)."""

    name = "mastodon"
    source = "home"

    def __init__(self) -> None:
        self.platform = MastodonPlatform()
        self.fake = FakeMastodon()
        self.requests: list[httpx.Request] = []

    def context(self) -> AccountContext:
        return AccountContext(
            handle="reposter_bot@social.example",
            platform_user_id=self.fake.me["id"],
            config={"base_url": BASE, "page_size": 2},
            credentials={"access_token": self.fake.token},
        )

    def http(self) -> httpx.AsyncClient:
        return self.fake.client()

    def add_post(self, kind: str, *, text: str = "hello #coffee world") -> str:
        fake = self.fake
        alice = fake.add_account("alice")
        if kind == "plain":
            body = text if "@alice" in text else f"{text} @alice"
            return fake.new_status(alice, body)["id"]
        if kind == "reply":
            bob = fake.add_account("bob")
            parent = fake.new_status(bob, "what do you drink? #coffee")
            fake.hidden.add(parent["id"])
            return fake.new_status(alice, f"@bob {text}", reply_to=parent["id"])["id"]
        if kind == "repost":
            carol = fake.add_account("carol", domain="other.example")
            original = fake.new_status(carol, text)
            fake.hidden.add(original["id"])
            return fake.new_status(alice, "", reblog_of=original["id"])["id"]
        if kind == "quote":
            dave = fake.add_account("dave")
            quoted = fake.new_status(dave, "the original #coffee take")
            fake.hidden.add(quoted["id"])
            return fake.new_status(alice, text, quote_of=quoted["id"])["id"]
        if kind == "media_links":
            return fake.new_status(alice, f"{text} https://example.com/page", media=1)["id"]
        raise ValueError(kind)

    def fail_next(self, status: int, headers: dict[str, str] | None = None, times: int = 1) -> None:
        self.fake.fail_next(status, headers, times)

    def delete_post(self, post_id: str) -> None:
        """The author deletes the status; Mastodon deletes the boosts of it with it."""
        self.fake.statuses.pop(self.fake.reblogs.pop(post_id, ""), None)
        self.fake.statuses.pop(post_id, None)

    def is_reposted(self, post_id: str) -> bool:
        status = self.fake.statuses.get(post_id) or {"id": post_id, "reblog": None}
        return (status["reblog"] or status)["id"] in self.fake.reblogs

    def set_followers(self, handles: list[str]) -> None:
        self.fake.followers = [self.fake.add_account(h)["id"] for h in handles]

    def validate_requests(self) -> None:
        self.requests = [ex.request for ex in self.fake.exchanges]
        self.fake.validate(mastodon_contract())


def make_harness() -> MastodonHarness:
    return MastodonHarness()
