"""A compact way to build Posts for the rule-language tests."""

from __future__ import annotations

from typing import Any

from app.platforms.base import Author, Post


def make_post(text: str = "", *, handle: str = "someone", author_id: str = "id-1", **fields: Any) -> Post:
    """A mock-platform Post; author fields go in `author=`, every other Post field as a keyword."""
    author = {"id": author_id, "handle": handle, **fields.pop("author", {})}
    return Post(platform="mock", id=fields.pop("id", "p1"), author=Author(**author), text=text, **fields)
