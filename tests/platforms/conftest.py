"""The contract suite runs over every platform that has a harness module."""

import importlib
import pkgutil

import pytest

import tests.platforms as pkg
from app.platforms.http import RetryPolicy

HARNESSES = sorted(
    m.name.removeprefix("harness_") for m in pkgutil.iter_modules(pkg.__path__) if m.name.startswith("harness_")
)


@pytest.fixture(params=HARNESSES)
def harness(request, monkeypatch):
    """One harness per platform; retries never really sleep."""
    slept: list[float] = []

    async def fake_pause(self, seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(RetryPolicy, "pause", fake_pause)
    module = importlib.import_module(f"tests.platforms.harness_{request.param}")
    h = module.make_harness()
    h.slept = slept
    return h
