"""decide(): every reason a matched post is skipped, which reason wins, and when nothing is written at all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.engine.decide import Decision, RuleView, decide, stop_reason
from app.engine.filters import normalized_text
from app.engine.scope import Scope
from app.engine.view import AccountView, FilterSettings
from app.platforms.base import Author, Post

NOW = datetime(2026, 5, 1, tzinfo=UTC)
ALICE = Author(id="A1", handle="Alice")
ANYONE = Scope("anyone")
TEXT = "The spring timetable is out, every class and every room in one place"


def post(author: Author = ALICE, text: str = TEXT, **fields) -> Post:
    return Post(platform="mock", id="p1", author=author, text=text, **{"is_reply": False, "is_repost": False, **fields})


def view(**fields) -> AccountView:
    return AccountView(account_id=1, handle="Club", platform="mock", platform_user_id="C9", **fields)


def rule(scope: Scope = ANYONE, *, review: bool = False, anchored: bool = True) -> RuleView:
    return RuleView(id=1, account_id=1, scope=scope, action="repost", review=review, anchored=anchored)


def skipped(p: Post, v: AccountView, r: RuleView | None = None) -> str | None:
    """The reason decide gives for skipping, asserting it did skip."""
    d = decide(p, r or rule(), v, NOW)
    assert d.status == "skipped", d
    return d.reason


def test_a_post_nothing_stops_is_queued_or_held_for_review_as_the_rule_says():
    assert decide(post(), rule(), view(), NOW) == Decision("queued")
    assert decide(post(), rule(review=True), view(), NOW) == Decision("review")


@pytest.mark.parametrize("author", [Author(id="x", handle="@club"), Author(id="c9", handle="someone")])
def test_the_accounts_own_post_by_handle_or_id_in_any_case(author):
    assert skipped(post(author), view()) == "own post"


def test_a_block_gives_its_reason_or_says_none_was_given():
    assert skipped(post(), view(blocked={"alice": "spam"})) == "blocked: spam"
    assert skipped(post(), view(blocked={"a1": ""})) == "blocked: no reason given"


@pytest.mark.parametrize(("handle", "home", "blocked"), [
    ("alice@spam.example", None, "spam.example"),  # Mastodon: a remote author of the instance
    ("@bob@sub.spam.example", None, "spam.example"),  # a subdomain, as Mastodon's domain blocks
    ("alice.spam.example", None, "spam.example"),  # a Bluesky handle under the domain
    ("spam.example", None, "spam.example"),  # the domain itself
    ("carol", "spam.example", "spam.example"),  # a local author of a blocked instance
    ("dave", "social.example", None), ("erin@notspam.example", None, None), ("frank@spam.example.org", None, None),
    ("did:plc:spam.example", None, None), ("grace", None, None)])
def test_a_domain_block_holds_for_its_domain_and_every_subdomain(handle, home, blocked):
    v = view(blocked_domains={"spam.example": "spam farm"}, home_domain=home)
    reason = stop_reason(post(Author(id="z", handle=handle)), v, NOW)
    assert reason == (f"blocked domain {blocked}: spam farm" if blocked else None)
    # the original author of a boost is checked as well
    boost = post(Author(id="y", handle="ok@fine.example"), reposted_author=Author(id="z", handle=handle))
    assert stop_reason(boost, v, NOW) == reason


def test_a_pds_block_holds_for_authors_hosted_there_or_under_its_host_as_far_as_known():
    hosts = {"did:plc:a": "pds.spam.example", "did:plc:b": "eu.pds.spam.example", "did:plc:c": "pds.example"}
    v = view(blocked_pds={"pds.spam.example": "spam PDS"}, author_pds=hosts)
    reasons = {did: stop_reason(post(Author(id=did.upper(), handle="x.bsky.social")), v, NOW)
               for did in ("did:plc:a", "did:plc:b", "did:plc:c", "did:plc:unknown")}
    assert reasons == {"did:plc:a": "blocked PDS pds.spam.example: spam PDS",
                       "did:plc:b": "blocked PDS pds.spam.example: spam PDS",
                       "did:plc:c": None, "did:plc:unknown": None}
    boost = post(Author(id="did:plc:c", handle="ok.bsky.social"), reposted_author=Author(id="did:plc:a", handle="a"))
    assert stop_reason(boost, v, NOW) == reasons["did:plc:a"]


def test_opt_outs_by_list_by_blocking_the_account_and_by_nobot_in_the_bio():
    assert skipped(post(), view(optouts={"a1"})) == "opted out: author is on the account's opt-out list"
    assert skipped(post(), view(blockers={"alice"})) == "opted out: author blocks the account"
    blocking = ALICE.model_copy(update={"blocks_account": True})
    assert skipped(post(blocking), view()) == "opted out: author blocks the account"
    shy = ALICE.model_copy(update={"bio": "teacher. #NoBot please"})
    assert skipped(post(shy), view()) == "opted out: #nobot in the author's bio"
    assert decide(post(ALICE.model_copy(update={"bio": "nobot fan"})), rule(), view(), NOW).status == "queued"


def test_consent_by_list_or_by_tagging_the_account_by_handle_or_id():
    needs = {"require_consent": True}
    assert skipped(post(), view(**needs)) == "consent: author has not tagged the account nor is on its consent list"
    assert decide(post(), rule(), view(consent={"a1"}, **needs), NOW).status == "queued"
    assert decide(post(mentions=["@CLUB"]), rule(), view(**needs), NOW).status == "queued"
    assert decide(post(mention_ids=["C9"]), rule(), view(**needs), NOW).status == "queued"
    assert skipped(post(mentions=["@clubhouse"]), view(**needs)).startswith("consent:")


def test_a_filter_stops_a_post_with_its_reason():
    assert skipped(post(lang=None), view(filters=FilterSettings(languages=("en",)))) == \
        "filter: language unknown, wanted en"


def test_a_post_outside_an_anchored_rules_scope_is_skipped_and_known_members_pass():
    followers = rule(Scope("followers"))
    assert skipped(post(), view(relations={"followers": set()}), followers) == "scope: not a follower"
    assert skipped(post(), view(), followers) == "scope: followers of the account are not known yet"
    assert decide(post(), followers, view(relations={"followers": {"alice"}}), NOW).status == "queued"


def test_a_post_outside_an_unanchored_rules_scope_leaves_no_trace_even_when_blocked():
    loose = rule(Scope("users", ("bob",)), anchored=False)
    assert decide(post(), loose, view(blocked={"alice": "spam"}), NOW) == \
        Decision("ignore", "scope: not one of the rule's users")
    # Unknown members are never taken as in scope: the post is not acted on either way.
    assert decide(post(), rule(Scope("following"), anchored=False), view(), NOW).status == "ignore"
    # In scope, an unanchored rule decides like any other.
    assert skipped(post(Author(id="b", handle="bob")), view(blocked={"bob": ""}), loose) == "blocked: no reason given"


def test_a_duplicate_of_a_recent_repost_is_skipped_within_the_window_only():
    settings = FilterSettings(duplicate_window_minutes=60)
    recent = [(NOW - timedelta(minutes=10), normalized_text(post()))]
    assert skipped(post(), view(filters=settings, recent_texts=recent)).startswith("filter: duplicate text")
    old = [(NOW - timedelta(minutes=90), normalized_text(post()))]
    assert decide(post(), rule(), view(filters=settings, recent_texts=old), NOW).status == "queued"


def test_the_first_reason_wins_in_the_documented_order():
    """own post, block, opt-out list, blocks the account, #nobot, consent, filters, scope, duplicate."""
    fields = {
        "blocked": {"alice": "spam"}, "optouts": {"alice"}, "blockers": {"alice"}, "require_consent": True,
        "filters": FilterSettings(languages=("en",), duplicate_window_minutes=60),
        "relations": {"followers": set()}, "recent_texts": [(NOW, normalized_text(post()))],
    }
    followers = rule(Scope("followers"))
    assert skipped(post(Author(id="C9", handle="alice", bio="#nobot")), view(**fields), followers) == "own post"
    bio: str | None = "#nobot"
    steps = [  # the reason expected, then what to clear so that the next one shows
        ("blocked: spam", "blocked", {}),
        ("opted out: author is on the account's opt-out list", "optouts", set()),
        ("opted out: author blocks the account", "blockers", set()),
        ("opted out: #nobot", "bio", None),
        ("consent:", "require_consent", False),
        ("filter: language unknown", "filters", FilterSettings(duplicate_window_minutes=60)),
        ("scope: not a follower", "relations", {"followers": {"alice"}}),
        ("filter: duplicate text", "recent_texts", []),
    ]
    for reason, key, cleared in steps:
        assert skipped(post(Author(id="A1", handle="alice", bio=bio)), view(**fields), followers).startswith(reason)
        if key == "bio":
            bio = None
        else:
            fields[key] = cleared
    assert decide(post(Author(id="A1", handle="alice")), followers, view(**fields), NOW).status == "queued"


def test_a_repost_is_stopped_by_its_original_author_too_and_the_reposter_is_checked_first():
    bob = Author(id="B2", handle="bob")
    boost = post(bob, is_repost=True, reposted_author=ALICE)
    assert stop_reason(boost, view(blocked={"alice": "spam"}), NOW) == "blocked: spam"
    assert stop_reason(boost, view(blocked={"alice": "spam"}, optouts={"bob"}), NOW) == \
        "opted out: author is on the account's opt-out list"
    assert stop_reason(boost, view(consent={"b2"}, require_consent=True), NOW).startswith("consent:")
    assert stop_reason(boost, view(consent={"b2", "a1"}, require_consent=True), NOW) is None


def test_stop_reason_is_what_decide_checks_before_scope():
    """The dispatcher asks stop_reason again just before sending: it holds no scope or duplicate check."""
    fields = {"relations": {"followers": set()}, "filters": FilterSettings(duplicate_window_minutes=60),
              "recent_texts": [(NOW, normalized_text(post()))]}
    assert stop_reason(post(), view(**fields), NOW) is None
    assert skipped(post(), view(**fields), rule(Scope("followers"))) == "scope: not a follower"
