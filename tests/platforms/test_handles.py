"""handle_key(): the one spelling of a handle every part of the service compares."""

import pytest

from app.platforms.handles import bare_handle, handle_key, instance_of


@pytest.mark.parametrize(("typed", "key"), [
    ("@Alice", "alice"), (" alice ", "alice"), ("alice", "alice"), ("@@alice", "alice"),
    ("Alice@Mastodon.Social", "alice@mastodon.social"), ("did:plc:ABC", "did:plc:abc"), ("", ""),
])
def test_a_handle_loses_its_at_case_and_spaces(typed, key):
    assert handle_key(typed) == key


def test_the_home_domain_is_dropped_and_only_it():
    assert handle_key("@Alice@Own.Instance", domain="own.instance") == "alice"
    assert handle_key("alice@own.instance", domain="Own.Instance") == "alice"
    assert handle_key("alice@other.instance", domain="own.instance") == "alice@other.instance"
    assert handle_key("alice@notown.instance", domain="own.instance") == "alice@notown.instance"


def test_the_instance_is_the_part_after_the_second_at():
    assert instance_of("@Alice@Example.ORG") == "example.org"
    assert instance_of("alice") == ""


@pytest.mark.parametrize(("typed", "bare"), [(" @Alice ", "Alice"), ("did:plc:AbC", "did:plc:AbC"),
                                             ("@bob@Social.example", "bob@Social.example")])
def test_bare_handle_drops_spaces_and_the_at_sign_and_keeps_the_case(typed, bare):
    assert bare_handle(typed) == bare and handle_key(typed) == bare.lower()
