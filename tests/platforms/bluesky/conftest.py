"""Fixtures every Bluesky test shares."""

import pytest

from app.platforms.http import RetryPolicy


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    """Retries never really sleep."""

    async def fake_sleep(seconds: float) -> None:
        return None

    monkeypatch.setattr(RetryPolicy, "sleep", staticmethod(fake_sleep))
