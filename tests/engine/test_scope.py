"""Scopes: parsing, the relation each needs, and who is in: unknown members are never in."""

from __future__ import annotations

import pytest

from app.engine.scope import Scope, ScopeError, author_keys, out_of_scope, parse_scope
from app.platforms.base import Author, Post


def by(handle: str, id_: str = "id-1") -> Post:
    return Post(platform="mock", id="p", author=Author(id=id_, handle=handle))


@pytest.mark.parametrize("text, kind, value, set_, relation", [
    ("anyone", "anyone", (), False, None),
    (" followers ", "followers", (), True, "followers"),
    ("following", "following", (), True, "following"),
    ("list:123", "list", ("123",), True, "list:123"),
    ("list: at://did:plc:x/app.bsky.graph.list/3k ", "list", ("at://did:plc:x/app.bsky.graph.list/3k",), True,
     "list:at://did:plc:x/app.bsky.graph.list/3k"),
    ("users:[@Alice, bob@mastodon.social, alice, did:plc:abc]", "users",
     ("alice", "bob@mastodon.social", "did:plc:abc"), True, None),
    ("users:carol", "users", ("carol",), True, None),
])
def test_parse_scope(text, kind, value, set_, relation):
    scope = parse_scope(text)
    assert (scope.kind, scope.value, scope.is_set, scope.relation) == (kind, value, set_, relation)
    assert parse_scope(str(scope)) == scope  # what is stored reads back the same


@pytest.mark.parametrize("text, message", [
    ("everyone", "unknown scope"), ("list", "unknown scope"), ("follower", "unknown scope"),
    ("list:", "needs a list id"), ("users:", "needs handles"), ("users:[]", "needs handles"),
    ("users:[alice smith]", "needs handles"), ("users:a/b", "needs handles"),
])
def test_parse_scope_refuses(text, message):
    with pytest.raises(ScopeError, match=message):
        parse_scope(text)


def test_author_keys_are_the_lower_cased_handle_without_at_and_the_id():
    assert author_keys(by("@Alice", "DID:PLC:A")) == {"alice", "did:plc:a"}
    assert author_keys(Author(id="7", handle="")) == {"7"}  # an empty name names nobody


def test_anyone_is_always_in_scope_even_with_no_relations_known():
    assert out_of_scope(Scope("anyone"), by("x"), {}) is None


def test_users_match_by_handle_or_by_id():
    scope = parse_scope("users:[alice, 42]")
    assert out_of_scope(scope, by("Alice"), {}) is None
    assert out_of_scope(scope, by("renamed", "42"), {}) is None  # a handle change keeps the person
    assert out_of_scope(scope, by("mallory"), {}) == "scope: not one of the rule's users"
    assert out_of_scope(scope, by("alice@elsewhere.example"), {}) == "scope: not one of the rule's users"


@pytest.mark.parametrize("text, outside", [
    ("followers", "scope: not a follower"),
    ("following", "scope: not followed by the account"),
    ("list:L1", "scope: not on list L1"),
])
def test_relation_scopes_ask_the_known_members(text, outside):
    scope = parse_scope(text)
    relation = scope.relation
    assert out_of_scope(scope, by("alice"), {relation: {"alice"}}) is None
    assert out_of_scope(scope, by("renamed", "id-1"), {relation: {"id-1"}}) is None
    assert out_of_scope(scope, by("alice"), {relation: {"bob"}}) == outside
    assert out_of_scope(scope, by("alice"), {relation: set()}) == outside


@pytest.mark.parametrize("text", ["followers", "following", "list:L1"])
def test_unknown_members_are_never_in_scope(text):
    scope = parse_scope(text)
    other = {"followers": {"alice"}} if text != "followers" else {"following": {"alice"}}
    for relations in ({}, other, {"list:L2": {"alice"}}):
        expected = f"scope: {scope.relation} of the account are not known yet"
        assert out_of_scope(scope, by("alice"), relations) == expected
