"""Blocks and author lists on the API."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


def clean_author(value: str) -> str:
    """Handles are kept lower-cased without the leading @; ids as given (lower-cased)."""
    value = value.strip().lstrip("@").lower()
    if not value or len(value) > 255 or any(c.isspace() for c in value):
        raise ValueError("an author is a handle (with or without @) or a platform id, without spaces")
    return value


class BlockCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    author: str = Field(description="handle or platform id")
    reason: str = Field(default="", max_length=1000)
    undo_existing: bool = Field(default=False, description="also undo this author's earlier reposts")

    _author = field_validator("author")(classmethod(lambda cls, v: clean_author(v)))


class BlockRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    account_id: int | None
    author: str
    reason: str
    undo_existing: bool
    created_by: str
    created_at: datetime


class BlockCreated(BlockRead):
    undo_queued: int = Field(description="earlier reposts queued for undo")
    unqueued: int = Field(description="waiting posts of this author that will not be sent")


ListKind = Literal["optout", "consent"]


class AuthorEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    author: str
    undo_existing: bool = Field(default=False, description="opt-out only: undo earlier reposts of this author")

    _author = field_validator("author")(classmethod(lambda cls, v: clean_author(v)))


class AuthorEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    account_id: int
    kind: str
    author: str
    created_at: datetime
