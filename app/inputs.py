"""What the API accepts, bounded to what the database can store: ids and counts within the
columns' 32-bit range, and text without NUL characters or lone surrogates."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from pydantic import Field

# Id and counter columns are INTEGER: 32-bit signed on PostgreSQL (SQLite's are 64-bit, but the
# API promises the same answers on both engines). A larger id can name nothing: a 422 that says
# the bound, before any query (PostgreSQL would refuse to compare an int4 with it).
MAX_INT = 2**31 - 1
MAX_ID = MAX_INT
# OFFSET takes a bigint on PostgreSQL and a 64-bit integer on SQLite.
MAX_OFFSET = 2**63 - 1

PathId = Annotated[int, Path(ge=1, le=MAX_ID, description="an id")]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def unstorable(value: Any, loc: tuple[str | int, ...] = ()) -> list[dict[str, Any]]:
    """Problems, as validation errors, for every string (key or value) in `value` that a database
    cannot store: PostgreSQL refuses NUL in text and JSONB; neither engine can encode a lone
    surrogate (JSON allows "\\ud800", UTF-8 does not). A loop, not recursion: JSON may nest deep."""
    problems: list[dict[str, Any]] = []
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, loc)]
    while stack:  # depth first, in the order of the document
        item, where = stack.pop()
        if isinstance(item, str):
            if problem := text_problem(item):
                problems.append({"loc": list(where), "msg": problem, "type": "string_unstorable"})
        elif isinstance(item, dict):
            for key in item:
                if isinstance(key, str) and (problem := text_problem(key)):
                    problems.append({"loc": [*where, key], "msg": f"key: {problem}", "type": "string_unstorable"})
            stack.extend((child, (*where, key)) for key, child in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend((item[index], (*where, index)) for index in reversed(range(len(item))))
    return problems


def text_problem(text: str) -> str | None:
    """Why `text` cannot be stored, or None."""
    if "\x00" in text:
        return "text cannot contain NUL characters (U+0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"text cannot contain a lone surrogate (U+{ord(text[exc.start]):04X}); send valid Unicode"
    return None


def storable_text(text: str) -> str:
    """`text` as a database can store it: NUL characters removed, a lone surrogate as U+FFFD."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = without_lone_surrogates(text)
    return text


def without_lone_surrogates(text: str) -> str:
    """`text` with each lone surrogate as U+FFFD (a pair written as two surrogates becomes its character)."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def storable(value: Any) -> Any:
    """A JSON value with every string (keys too) made storable (`storable_text`): for what the
    platforms send, which is stored whatever it holds, where the API refuses such input instead."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        return {storable(key): storable(child) for key, child in value.items()}
    if isinstance(value, list):
        return [storable(child) for child in value]
    return value
