"""Fixtures for the X adapter's own tests: the fake X API in either spelling."""

import pytest

from app.platforms.http import RetryPolicy
from tests.platforms.harness_x import XHarness


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    """Retries and 429 waits never really sleep; what they would have slept is recorded."""
    slept: list[float] = []

    async def fake_pause(self, seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(RetryPolicy, "pause", fake_pause)
    return slept


@pytest.fixture(params=["tweet", "post"])
def h(request) -> XHarness:
    """The harness in docs.x.com's spelling (the default) and in the OpenAPI document's."""
    return XHarness(request.param)


@pytest.fixture
def hx() -> XHarness:
    """The harness in the adapter's default spelling (docs.x.com: tweet.fields)."""
    return XHarness("tweet")
