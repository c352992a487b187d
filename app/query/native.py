"""The optional C extension `app.query._native` (app/query/_native.c), or None.

None where it was not built (no C compiler at install) or where REPOSTER_PURE_PYTHON is set;
the tokenizer, a post's keys and the index then run the same code in Python.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from app.platforms.base import Post
    from app.query import _native
    from app.query.prepared import PreparedPost

_S = TypeVar("_S")


class Native(Protocol):
    """What the Python side calls in the C extension (typed in app/query/_native.pyi)."""

    @property
    def KeyIndex(self) -> type[_native.KeyIndex[Any]]: ...

    def pack(self, exact: Sequence[int], checks: tuple[tuple[Any, ...], ...], state: _S, /) -> _native.Packed[_S]: ...

    # table: a KeyIndex, shards: KeyIndexes, always: a Packed view (TypeError otherwise)
    def match(self, post: PreparedPost, tokens: list[str], keys: list[str], author_keys: tuple[str, ...],
              table: object, shards: tuple[object, ...], always: object, followers: int | None, /) -> set[int]: ...

    def tokenize(self, text: str, memo: dict[str, str], split_chunk: Callable[[str], str], /) -> list[str]: ...

    def cjk_pairs(self, tokens: list[str] | tuple[str, ...], /) -> list[str]: ...

    def set_folds(self, table: bytes, /) -> None: ...

    def set_key_context(self, tags: dict[str, str], mentions: dict[str, str], froms: dict[str, str],
                        tos: dict[str, str], langs: dict[str | None, tuple[str, ...]],
                        remember: Callable[[dict[str, str], str, str], str],
                        lang_keys: Callable[[str | None], tuple[str, ...]], host_keys: Callable[[str], tuple[str, ...]],
                        flag_names: tuple[str, ...], labels: dict[str, str], /) -> None: ...

    def post_keys(self, post: Post, tokens: list[str], /) -> tuple[list[str], tuple[str, ...]]: ...


def _load() -> Native | None:
    if os.environ.get("REPOSTER_PURE_PYTHON"):
        return None
    try:
        from app.query import _native
    except ImportError:
        return None
    return _native


native = _load()
