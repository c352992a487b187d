"""Types of the C extension app/query/_native.c (each function's docstring there says more).

Checked against the Python side through `app.query.native.Native`, which the module must satisfy.
"""

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar, final, overload

from app.platforms.base import Post
from app.query.prepared import PreparedPost

_S = TypeVar("_S")
_V = TypeVar("_V")
_T = TypeVar("_T")

@final
class Packed(Generic[_S]):
    """One key's rules packed by pack(); read by match()."""

    @property
    def state(self) -> _S:
        """What pack() was given as `state`."""

@final
class KeyIndex(Generic[_V]):
    """A table of str key -> view for the index (get, pop, [], in, len, keys)."""

    def __init__(self) -> None: ...
    @overload
    def get(self, key: str, /) -> _V | None: ...
    @overload
    def get(self, key: str, default: _T, /) -> _V | _T: ...
    @overload
    def pop(self, key: str, /) -> _V: ...
    @overload
    def pop(self, key: str, default: _T, /) -> _V | _T: ...
    def keys(self) -> list[str]: ...
    def __getitem__(self, key: str, /) -> _V: ...
    def __setitem__(self, key: str, value: _V, /) -> None: ...
    def __delitem__(self, key: str, /) -> None: ...
    def __contains__(self, key: object, /) -> bool: ...
    def __len__(self) -> int: ...

def pack(exact: Sequence[int], checks: tuple[tuple[Any, ...], ...], state: _S, /) -> Packed[_S]: ...
def match(
    post: PreparedPost,
    tokens: list[str],
    keys: list[str],
    author_keys: tuple[str, ...],
    table: object,  # a KeyIndex of Packed views (TypeError otherwise), as are the shards
    shards: tuple[object, ...],
    always: object,  # a Packed view
    followers: int | None,
    /,
) -> set[int]: ...
def tokenize(text: str, memo: dict[str, str], split_chunk: Callable[[str], str], /) -> list[str]: ...
def cjk_pairs(tokens: list[str] | tuple[str, ...], /) -> list[str]: ...
def set_folds(table: bytes, /) -> None: ...
def set_key_context(
    tags: dict[str, str],
    mentions: dict[str, str],
    froms: dict[str, str],
    tos: dict[str, str],
    langs: dict[str | None, tuple[str, ...]],
    remember: Callable[[dict[str, str], str, str], str],
    lang_keys: Callable[[str | None], tuple[str, ...]],
    host_keys: Callable[[str], tuple[str, ...]],
    flag_names: tuple[str, ...],
    labels: dict[str, str],
    /,
) -> None: ...
def post_keys(post: Post, tokens: list[str], /) -> tuple[list[str], tuple[str, ...]]: ...
