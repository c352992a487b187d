"""Content warnings, sensitive posts and labels: skipped or held for review as the account says,
with the mark named in the reason. Pure."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.engine.decide import RuleView, Verdict, decide, stop_reason
from app.engine.filters import filter_reason, mark_reason, review_reason
from app.engine.scope import Scope
from app.engine.view import AccountView, FilterSettings, MarkMode
from app.models.account import MarkMode as StoredMarkMode
from app.platforms.base import Author, Post

NOW = datetime(2026, 5, 1, tzinfo=UTC)
ALICE = Author(id="A1", handle="alice", labels=[])


def post(author: Author = ALICE, **fields) -> Post:
    base = {"is_reply": False, "is_repost": False, "sensitive": False}
    return Post(platform="mock", id="p1", author=author, text="the timetable is out", **{**base, **fields})


def view(**filters) -> AccountView:
    return AccountView(account_id=1, handle="club", platform="mock", filters=FilterSettings(**filters))


RULE = RuleView(id=1, account_id=1, scope=Scope("anyone"), action="repost", review=False)


def test_the_engine_and_the_column_know_the_same_modes():
    assert [m.value for m in MarkMode] == [m.value for m in StoredMarkMode]


def test_nothing_is_filtered_while_every_mark_is_allowed():
    marked = post(content_warning="spoilers", sensitive=True, labels=["spam"], author=ALICE.model_copy(
        update={"labels": ["porn"]}))
    assert decide(marked, RULE, view(), NOW).status == Verdict.queued


def test_a_content_warning_is_skipped_with_its_text_in_the_reason():
    reason = filter_reason(FilterSettings(content_warnings="skip"), post(content_warning="Film spoilers"), NOW)
    assert reason == "filter: content warning 'Film spoilers'"
    assert filter_reason(FilterSettings(content_warnings="skip"), post(content_warning=None), NOW) is None
    long = "x" * 200
    assert len(filter_reason(FilterSettings(content_warnings="skip"), post(content_warning=long), NOW)) < 100


def test_sensitive_skips_marked_posts_and_unknown_ones_but_not_unmarked():
    f = FilterSettings(sensitive="skip")
    assert filter_reason(f, post(sensitive=True), NOW) == "filter: marked sensitive"
    assert "unknown" in filter_reason(f, post(sensitive=None), NOW)
    assert filter_reason(f, post(sensitive=False), NOW) is None


@pytest.mark.parametrize(("where", "fields", "whose"), [
    ("post", {"labels": ["Spam"]}, "post"),
    ("author", {"author": ALICE.model_copy(update={"labels": ["spam"]})}, "author"),
    ("original", {"is_repost": True, "reposted_author": Author(id="B", handle="bob", labels=["spam"])},
     "reposted author"),
])
def test_a_label_on_the_post_or_either_author_is_named_in_the_reason(where, fields, whose):
    reason = filter_reason(FilterSettings(labels_skip=("spam",)), post(**fields), NOW)
    assert reason == f"filter: label spam on the {whose}"


def test_labels_the_account_does_not_name_pass():
    assert filter_reason(FilterSettings(labels_skip=("spam",)), post(labels=["porn", "!warn"]), NOW) is None
    assert filter_reason(FilterSettings(labels_skip=("spam",)), post(author=Author(id="1", handle="a")), NOW) is None


def test_review_holds_the_post_with_the_reason_and_is_not_a_stop_before_sending():
    v = view(content_warnings="review", labels_review=("!warn",))
    held = decide(post(content_warning="cw"), RULE, v, NOW)
    assert held.status == Verdict.review and held.reason == "filter: content warning 'cw' (held for review)"
    by_label = decide(post(labels=["!warn"]), RULE, v, NOW)
    assert by_label.status == Verdict.review and by_label.reason == "filter: label !warn on the post (held for review)"
    # once a person approved it, the checks just before sending let it go
    assert stop_reason(post(content_warning="cw", labels=["!warn"]), v, NOW) is None


def test_skip_wins_over_review():
    v = view(labels_skip=("spam",), labels_review=("spam", "!warn"), content_warnings="review")
    decision = decide(post(labels=["!warn", "spam"], content_warning="cw"), RULE, v, NOW)
    assert decision.status == Verdict.skipped and decision.reason == "filter: label spam on the post"


def test_a_post_that_passes_keeps_the_rules_own_review():
    reviewing = RuleView(id=1, account_id=1, scope=Scope("anyone"), action="repost", review=True)
    assert decide(post(), reviewing, view(content_warnings="review"), NOW).status == Verdict.review
    assert review_reason(FilterSettings(content_warnings="review"), post()) is None
    assert mark_reason(FilterSettings(sensitive="review"), post(sensitive=True), MarkMode.skip) is None
