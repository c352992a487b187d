"""Platforms by name: the built-in ones and any registered through the `reposter.platforms` entry points."""

from __future__ import annotations

import importlib
import logging
from importlib.metadata import entry_points

from app.platforms.base import Platform

log = logging.getLogger("reposter.platforms")

BUILTIN = {
    "mock": "app.platforms.mock.platform:MockPlatform",
    "mastodon": "app.platforms.mastodon.platform:MastodonPlatform",
    "bluesky": "app.platforms.bluesky.platform:BlueskyPlatform",
    "x": "app.platforms.x.platform:XPlatform",
}

_instances: dict[str, Platform] = {}


def _load(target: str) -> type[Platform]:
    """Import `module:Class`."""
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def available() -> dict[str, str]:
    """Every platform name and where it comes from (built-in or an entry point)."""
    names = dict(BUILTIN)
    for ep in entry_points(group="reposter.platforms"):
        names.setdefault(ep.name, ep.value)
    return names


def get_platform(name: str) -> Platform:
    """The one instance of the named platform; KeyError if nobody provides it."""
    if name not in _instances:
        target = available().get(name)
        if target is None:
            raise KeyError(name)
        _instances[name] = _load(target)()
    return _instances[name]


def register(platform: Platform) -> None:
    """Install a platform instance under its name (tests and plugins)."""
    _instances[platform.name] = platform
