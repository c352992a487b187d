"""Scopes: who may be reposted (RoundTeam's "retweet from")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.platforms.base import Author, Post
from app.platforms.handles import handle_key

SET_KINDS = ("followers", "following", "list", "users")
# a handle, `user@domain` (Mastodon: remote people too), or an id such as `did:plc:…`
_HANDLE = re.compile(r"^@?[\w.\-:]+(@[\w.\-]+)?$")


class ScopeError(ValueError):
    """A scope string that does not parse."""


@dataclass(frozen=True)
class Scope:
    kind: str  # anyone | followers | following | list | users
    value: tuple[str, ...] = ()

    @property
    def is_set(self) -> bool:
        """A set of people: a rule with such a scope may have an empty query."""
        return self.kind in SET_KINDS

    @property
    def relation(self) -> str | None:
        """The cached relation this scope needs (`followers`, `following`, `list:<id>`)."""
        if self.kind in ("followers", "following"):
            return self.kind
        return f"list:{self.value[0]}" if self.kind == "list" else None

    def __str__(self) -> str:
        if self.kind in ("anyone", "followers", "following"):
            return self.kind
        return f"{self.kind}:" + ",".join(self.value)


def parse_scope(text: str) -> Scope:
    """Parse `anyone`, `followers`, `following`, `list:<id>`, `users:[a, b]` (or `users:a,b`)."""
    raw = text.strip()
    if raw in ("anyone", "followers", "following"):
        return Scope(raw)
    kind, sep, value = raw.partition(":")
    if not sep or kind not in ("list", "users"):
        raise ScopeError(f"unknown scope {text!r}; use anyone, followers, following, list:<id> or users:[a, b]")
    if kind == "list":
        if not value.strip():
            raise ScopeError("list: needs a list id")
        return Scope("list", (value.strip(),))
    items = [handle_key(v) for v in value.strip().strip("[]").split(",") if v.strip()]
    if not items or not all(_HANDLE.match(i) for i in items):
        raise ScopeError("users: needs handles or ids, e.g. users:[alice, bob@mastodon.social]")
    return Scope("users", tuple(dict.fromkeys(items)))


def author_keys(who: Post | Author) -> set[str]:
    """The ways an author (or a post's author) can be named: lower-cased handle without @, and id."""
    author = who.author if isinstance(who, Post) else who
    return {handle_key(author.handle), author.id.lower()} - {""}


def out_of_scope(scope: Scope, post: Post, relations: dict[str, set[str]]) -> str | None:
    """None when the author is in scope, else the reason (`scope: not a follower`)."""
    if scope.kind == "anyone":
        return None
    keys = author_keys(post)
    if scope.kind == "users":
        return None if keys & set(scope.value) else "scope: not one of the rule's users"
    members = relations.get(scope.relation or "")
    if members is None:
        return f"scope: {scope.relation} of the account are not known yet"
    if keys & members:
        return None
    return {
        "followers": "scope: not a follower",
        "following": "scope: not followed by the account",
    }.get(scope.kind, f"scope: not on list {scope.value[0] if scope.value else ''}")
