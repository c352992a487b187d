"""Rule shapes on the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.inputs import MAX_INT, Id
from app.patch import Patch
from app.platforms.base import Post

ActionName = Literal["repost", "quote", "like"]


class RuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    query: str = Field(default="", max_length=2000, description="the rule language; see docs/rule-language.md")
    scope: str = Field(default="anyone", description="anyone | followers | following | list:<id> | users:[a, b]")
    action: ActionName = "repost"
    quote_template: str | None = Field(default=None, max_length=1000, description="{author} {url} {rule}")
    enabled: bool = True
    review: bool = Field(default=False, description="queue matches for a moderator instead of acting")
    priority: int = Field(default=0, ge=-MAX_INT - 1, le=MAX_INT)


class RuleUpdate(Patch):
    nullable = frozenset({"quote_template"})

    name: str | None = Field(default=None, min_length=1, max_length=200)
    query: str | None = Field(default=None, max_length=2000)
    scope: str | None = None
    action: ActionName | None = None
    quote_template: str | None = Field(default=None, max_length=1000)
    enabled: bool | None = None
    review: bool | None = None
    priority: int | None = Field(default=None, ge=-MAX_INT - 1, le=MAX_INT)


class RuleAuthor(BaseModel):
    """A person the rule names, and who that is on the platform."""

    name: str = Field(description="as the query or scope names them (folded, without @)")
    author_id: str | None = Field(description="the platform id matched; None while pending")
    handle: str = Field(description="their handle, for display")
    pending: bool = Field(description="true while the platform could not be asked; "
                                      "until then the name matches as typed")


class RuleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    account_id: int
    name: str
    query: str
    normalized: str
    scope: str
    authors: list[RuleAuthor] = Field(default_factory=list, description="the people from:, to:, @ and users: name")
    action: str
    quote_template: str | None
    enabled: bool
    review: bool
    priority: int
    created_at: datetime
    updated_at: datetime


    @field_validator("authors", mode="before")
    @classmethod
    def _authors(cls, value: Any) -> Any:
        """`Rule.authors` (name -> {id, handle}) as a list."""
        if not isinstance(value, dict):
            return value
        return [{"name": name, "author_id": (entry or {}).get("id"), "handle": (entry or {}).get("handle") or name,
                 "pending": not (entry or {}).get("id")} for name, entry in value.items()]


class QueryError(BaseModel):
    message: str
    position: int


class ValidateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(max_length=2000)
    scope: str = "anyone"


class ValidateResult(BaseModel):
    valid: bool
    normalized: str | None = None
    error: QueryError | None = None


class ExplainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(max_length=2000)
    scope: str = "anyone"
    post: Post


class TermHeld(BaseModel):
    term: str
    held: bool


class ExplainResult(BaseModel):
    matched: bool
    terms: list[TermHeld]


class PreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str | None = Field(default=None, max_length=2000)
    scope: str | None = None
    rule_id: Id | None = None
    posts: list[Post] | None = Field(default=None, max_length=1000, description="posts to try; default: recently seen")
    limit: int = Field(default=50, ge=1, le=500)


class ExistingAction(BaseModel):
    """An action the account already has on a previewed post."""

    id: int
    kind: str
    status: str


class PreviewItem(BaseModel):
    post: dict[str, Any]
    matched: bool
    would: str = Field(description="queued | review | skipped | no match | already acted (see `action`)")
    reason: str | None
    terms: list[TermHeld]
    action: ExistingAction | None = Field(default=None, description="the account's action on this post, if any")


class PreviewResult(BaseModel):
    query: str
    scope: str
    items: list[PreviewItem]
