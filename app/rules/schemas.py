"""Rule shapes on the API."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.inputs import MAX_INT, Id
from app.patch import Patch
from app.platforms.base import Post

ActionName = Literal["repost", "quote", "like"]

WEEK_MINUTES = 7 * 24 * 60
YEAR_HOURS = 8760
LOCAL_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
LocalTime = Annotated[str, Field(max_length=32, examples=["09:00"], description="HH:MM, 00:00 to 23:59")]


class TimingNow(BaseModel):
    """Send a match at once (within the account's limits)."""

    model_config = ConfigDict(extra="forbid")
    mode: Literal["now"] = "now"


class TimingDelay(BaseModel):
    """Send a match `minutes` after it was matched."""

    model_config = ConfigDict(extra="forbid")
    mode: Literal["delay"]
    minutes: int = Field(ge=1, le=WEEK_MINUTES, description="1 to 10080 (a week)")


class TimingSpread(BaseModel):
    """Spread the matches of a window across it: the first match opens a window of `window_minutes`;
    its k-th match is due at the point halving the widest free gap (start, +1/2, +1/4, +3/4, +1/8 ...)."""

    model_config = ConfigDict(extra="forbid")
    mode: Literal["spread"]
    window_minutes: int = Field(ge=1, le=WEEK_MINUTES, description="1 to 10080 (a week)")


class TimingAt(BaseModel):
    """Send a match at the next of these local times, in the account's time zone."""

    model_config = ConfigDict(extra="forbid")
    mode: Literal["at"]
    times: list[LocalTime] = Field(min_length=1, max_length=48, description="HH:MM, e.g. [\"09:00\", \"17:30\"]")

    @field_validator("times")
    @classmethod
    def _sorted(cls, value: list[str]) -> list[str]:
        """Each a time of day, HH:MM; kept sorted, once each."""
        for text in value:
            if not LOCAL_TIME.fullmatch(text):
                raise ValueError(f"{text!r} is not a time of day HH:MM (00:00 to 23:59)")
        return sorted(set(value))


Timing = Annotated[TimingNow | TimingDelay | TimingSpread | TimingAt, Field(discriminator="mode")]
TIMING_HELP = ("when a match may go at the earliest (the account's limits still apply): {\"mode\": \"now\"} "
               "(default), {\"mode\": \"delay\", \"minutes\": 30}, {\"mode\": \"spread\", \"window_minutes\": 120} "
               "or {\"mode\": \"at\", \"times\": [\"09:00\", \"17:30\"]} (the account's time zone)")
UNDO_HELP = "undo a sent repost after this many hours (a promotion window), 1 to 8760; null: never"


class RuleCreate(BaseModel):
    """What to repost: a query over posts, from whom (scope), and what to do with a match."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "coffee news", "query": "#coffee -giveaway lang:en", "scope": "followers", "action": "repost",
         "review": True, "priority": 10},
        {"name": "quote the meetup", "query": "\"community meetup\" OR #meetup", "action": "quote",
         "quote_template": "Worth a read, from {author}: {url}"}]})

    name: str = Field(min_length=1, max_length=200, examples=["coffee news"], description="a name for people")
    query: str = Field(default="", max_length=2000, examples=["#coffee -giveaway lang:en"],
                       description="the rule language (words, #tags, from:, lang:, OR, -not; see "
                                   "docs/rule-language.md); empty: every post in scope")
    scope: str = Field(default="anyone", examples=["followers"],
                       description="whose posts: anyone | followers | following | list:<id> | users:[a, b]")
    action: ActionName = Field(default="repost", description="what to do with a match: repost, quote or like")
    quote_template: str | None = Field(default=None, max_length=1000, examples=["Worth a read: {url}"],
                                       description="the text of a quote; {author} {url} {rule} are filled in")
    enabled: bool = Field(default=True, description="false: the rule matches nothing until enabled")
    review: bool = Field(default=False, description="queue matches for a moderator instead of acting")
    priority: int = Field(default=0, ge=-MAX_INT - 1, le=MAX_INT,
                          description="when several rules with one action match a post, the highest acts "
                                      "(ties: the oldest rule)")
    timing: Timing = Field(default_factory=TimingNow, description=TIMING_HELP)
    undo_after_hours: int | None = Field(default=None, ge=1, le=YEAR_HOURS, examples=[24], description=UNDO_HELP)


class RuleUpdate(Patch):
    """The fields to change (as in RuleCreate); those left out keep their value."""

    nullable = frozenset({"quote_template", "undo_after_hours"})

    name: str | None = Field(default=None, min_length=1, max_length=200, description="a name for people")
    query: str | None = Field(default=None, max_length=2000, description="the rule language")
    scope: str | None = Field(default=None, description="anyone | followers | following | list:<id> | users:[a, b]")
    action: ActionName | None = Field(default=None, description="repost, quote or like")
    quote_template: str | None = Field(default=None, max_length=1000, description="{author} {url} {rule}; null "
                                                                                  "clears it")
    enabled: bool | None = Field(default=None, description="false: the rule matches nothing")
    review: bool | None = Field(default=None, description="queue matches for a moderator instead of acting")
    priority: int | None = Field(default=None, ge=-MAX_INT - 1, le=MAX_INT, description="higher acts first")
    timing: Timing | None = Field(default=None, description=TIMING_HELP)
    undo_after_hours: int | None = Field(default=None, ge=1, le=YEAR_HOURS, description=UNDO_HELP)


class RuleAuthor(BaseModel):
    """A person the rule names, and who that is on the platform."""

    name: str = Field(description="as the query or scope names them (folded, without @)")
    author_id: str | None = Field(description="the platform id matched; None while pending")
    handle: str = Field(description="their handle, for display")
    pending: bool = Field(description="true while the platform could not be asked; "
                                      "until then the name matches as typed")


class RuleRead(BaseModel):
    """A rule as stored."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="the rule's id (what /rules/{rule_id} takes)")
    account_id: int = Field(description="the account it reposts to")
    name: str = Field(description="a name for people")
    query: str = Field(description="the query as written")
    normalized: str = Field(description="the query spelled canonically: folded terms, only the needed parentheses")
    scope: str = Field(description="whose posts it looks at")
    authors: list[RuleAuthor] = Field(default_factory=list, description="the people from:, to:, @ and users: name")
    action: str = Field(description="repost, quote or like")
    quote_template: str | None = Field(description="the text of a quote")
    enabled: bool = Field(description="false: it matches nothing")
    review: bool = Field(description="matches wait for a moderator")
    priority: int = Field(description="higher acts first when several rules match")
    timing: Timing = Field(default_factory=TimingNow, description=TIMING_HELP)
    undo_after_hours: int | None = Field(default=None, description=UNDO_HELP)
    created_at: datetime = Field(description="when it was made (UTC)")
    updated_at: datetime = Field(description="when it last changed (UTC); it does not reach back to older posts")

    @field_validator("timing", mode="before")
    @classmethod
    def _timing(cls, value: Any) -> Any:
        """A rule stored before timings (null) sends at once."""
        return value or {"mode": "now"}

    @field_validator("authors", mode="before")
    @classmethod
    def _authors(cls, value: Any) -> Any:
        """`Rule.authors` (name -> {id, handle}) as a list."""
        if not isinstance(value, dict):
            return value
        return [{"name": name, "author_id": (entry or {}).get("id"), "handle": (entry or {}).get("handle") or name,
                 "pending": not (entry or {}).get("id")} for name, entry in value.items()]


class QueryError(BaseModel):
    """Why a query does not parse, and where."""

    message: str = Field(description="what is wrong, e.g. `unclosed parenthesis`")
    position: int = Field(description="the character offset of the fault in the query (0 is the first)")


class ValidateRequest(BaseModel):
    """A query to check before saving it in a rule."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"query": "#coffee (tea OR"}]})

    query: str = Field(max_length=2000, examples=["#coffee -giveaway"], description="the rule language")
    scope: str = Field(default="anyone", description="the scope it would have (some terms need one)")


class ValidateResult(BaseModel):
    """Whether the query parses; if not, where it fails."""

    valid: bool = Field(description="true: a rule may use it")
    normalized: str | None = Field(default=None, description="the query spelled canonically, when valid")
    error: QueryError | None = Field(default=None, description="the fault, when not valid")


class ExplainRequest(BaseModel):
    """A query and a post: which of the query's terms hold for it."""

    model_config = ConfigDict(extra="forbid")

    query: str = Field(max_length=2000, examples=["#coffee -giveaway"], description="the rule language")
    scope: str = Field(default="anyone", description="the rule's scope")
    post: Post = Field(description="the post to test, as the platforms' posts are normalized")


class TermHeld(BaseModel):
    """One term of a query and whether it held for the post."""

    term: str = Field(description="the term as written, e.g. `#coffee` or `-giveaway`")
    held: bool = Field(description="whether it held")


class ExplainResult(BaseModel):
    """Whether the query matched the post, term by term."""

    matched: bool = Field(description="whether the whole query matched")
    terms: list[TermHeld] = Field(description="each term, in the order of the query")


class PreviewRequest(BaseModel):
    """A rule to try (a query, or rule_id for a saved one) on posts, without acting."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"query": "#coffee -giveaway", "scope": "anyone", "limit": 50}, {"rule_id": 1}]})

    query: str | None = Field(default=None, max_length=2000, description="the rule language; or give rule_id")
    scope: str | None = Field(default=None, description="with query: its scope (default anyone)")
    rule_id: Id | None = Field(default=None, description="a rule of this account to try instead of a query")
    posts: list[Post] | None = Field(default=None, max_length=1000, description="posts to try; default: recently seen")
    limit: int = Field(default=50, ge=1, le=500, description="how many recent posts to try")


class ExistingAction(BaseModel):
    """An action the account already has on a previewed post."""

    id: int = Field(description="the action's id")
    kind: str = Field(description="repost, quote or like")
    status: str = Field(description="its status, as in ActionRead")


class PreviewItem(BaseModel):
    """What the rule would do with one post."""

    post: dict[str, Any] = Field(description="the post, normalized")
    matched: bool = Field(description="whether the query matched it")
    would: str = Field(description="queued | review | skipped | no match | already acted (see `action`)")
    reason: str | None = Field(description="why it would be skipped (scope, a filter, a block...)")
    terms: list[TermHeld] = Field(description="each term of the query and whether it held")
    action: ExistingAction | None = Field(default=None, description="the account's action on this post, if any")


class PreviewResult(BaseModel):
    """A preview: the query tried and what it would do with each post."""

    query: str = Field(description="the query tried")
    scope: str = Field(description="the scope tried")
    items: list[PreviewItem] = Field(description="one per post tried")
