"""Replaying matches under other filters and limits (app/engine/replay.py): pure, no database."""

from datetime import UTC, datetime, timedelta

from app.engine.limits import LimitSettings
from app.engine.replay import Match, Outcome, replay
from app.engine.view import FilterSettings
from app.platforms.base import Author, Post

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def post(n: int, text: str = "", lang: str | None = "en") -> Post:
    return Post(platform="mock", id=str(n), url=None, author=Author(id="a", handle="alice"),
                text=text or f"cup number {n} #coffee", lang=lang, created_at=T0)


def matches(*langs: str | None) -> list[Match]:
    return [Match(post(i, lang=lang), T0 + timedelta(minutes=i)) for i, lang in enumerate(langs)]


def test_no_settings_send_everything_at_once():
    outcomes = replay(matches("en", "de", None), FilterSettings(), LimitSettings())
    assert [o.describe() for o in outcomes] == ["sent at once"] * 3


def test_a_language_filter_skips_others_and_unknown():
    outcomes = replay(matches("en", "de", None), FilterSettings(languages=("en",)), LimitSettings())
    assert outcomes[0].skipped is None
    assert outcomes[1].skipped == "filter: language de not in en"
    assert outcomes[2].skipped == "filter: language unknown, wanted en"


def test_an_hourly_cap_delays_in_order_and_a_skipped_match_spends_nothing():
    given = matches("en", "de", "en", "en")
    outcomes = replay(given, FilterSettings(languages=("en",)), LimitSettings(max_per_hour=2))
    assert [o.delayed for o in outcomes] == [False, False, False, True]
    assert outcomes[3].wait == timedelta(minutes=57)  # the first send leaves the hour at 13:00; matched 12:03
    assert outcomes[3].describe() == "sent after 57 min"


def test_the_queue_is_sent_in_order_behind_a_min_interval():
    outcomes = replay(matches("en", "en", "en"), FilterSettings(), LimitSettings(min_interval_seconds=3600))
    assert [o.wait for o in outcomes] == [timedelta(0), timedelta(minutes=59), timedelta(minutes=118)]
    assert outcomes[2].describe() == "sent after 1 h 58 min"


def test_max_queue_age_turns_a_long_wait_into_a_skip():
    outcomes = replay(matches("en", "en"), FilterSettings(), LimitSettings(min_interval_seconds=3600), 600)
    assert outcomes[1].skipped == "waited longer than max_queue_age (600 s)"


def test_duplicates_are_checked_against_what_was_let_through_before():
    same = [Match(post(i, "the very same announcement about the exam week schedule"), T0 + timedelta(minutes=i))
            for i in range(3)]
    outcomes = replay(same, FilterSettings(duplicate_window_minutes=60), LimitSettings())
    assert [o.skipped is None for o in outcomes] == [True, False, False]


def test_a_fixed_reason_stays_whatever_the_settings():
    fixed = [Match(post(0), T0, "scope: not a follower")]
    assert replay(fixed, FilterSettings(), LimitSettings()) == [Outcome(skipped="scope: not a follower")]
