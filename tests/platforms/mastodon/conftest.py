"""Fixtures for the Mastodon adapter's own tests: a fake instance and clients bound to it."""

from __future__ import annotations

from typing import Any

import pytest

from app.platforms.base import AccountContext
from app.platforms.http import RetryPolicy
from app.platforms.mastodon.actions import MastodonActionClient
from app.platforms.mastodon.feed import MastodonFeedSource
from tests.platforms.mastodon.contract import mastodon_contract
from tests.platforms.mastodon.fake_server import BASE, FakeMastodon


@pytest.fixture(autouse=True)
def slept(monkeypatch) -> list[float]:
    """Retries and reconnects never really sleep; the pauses they asked for are recorded."""
    pauses: list[float] = []

    async def fake_pause(self, seconds: float) -> None:
        pauses.append(seconds)

    monkeypatch.setattr(RetryPolicy, "pause", fake_pause)
    return pauses


@pytest.fixture
def fake() -> FakeMastodon:
    return FakeMastodon()


@pytest.fixture
def contract():
    return mastodon_contract()


def context(fake: FakeMastodon, **config: Any) -> AccountContext:
    """The bot's account on the fake instance; `config` overrides MastodonConfig fields."""
    return AccountContext(
        handle="reposter_bot@social.example",
        config={"base_url": BASE, **config},
        credentials={"access_token": fake.token},
    )


@pytest.fixture
def feed(fake: FakeMastodon) -> MastodonFeedSource:
    return MastodonFeedSource(context(fake, page_size=2), fake.client())


@pytest.fixture
def actions(fake: FakeMastodon) -> MastodonActionClient:
    return MastodonActionClient(context(fake), fake.client())


def newest(cursor: str | None) -> str | None:
    """The server's `min_id` a cursor holds (what the next poll asks for statuses after)."""
    from app.platforms.mastodon.cursor import SourceCursor

    position = SourceCursor.decode(cursor)
    state = position.state if position else None
    return state.min_id if state else None
