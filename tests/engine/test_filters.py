"""Filters and duplicates, pure: unknown values never pass, near-duplicates only for longer texts."""

from datetime import UTC, datetime, timedelta

from app.engine.filters import duplicate_reason, filter_reason, normalized_text
from app.engine.view import FilterSettings
from app.platforms.base import Author, Post

NOW = datetime(2026, 5, 1, tzinfo=UTC)


def post(text="hello", **fields) -> Post:
    author = fields.pop("author", Author(id="1", handle="a", followers_count=10, created_at=NOW - timedelta(days=400)))
    return Post(platform="mock", id="1", author=author, text=text, **fields)


def test_unknown_values_never_pass_a_filter_that_needs_them():
    unknown = Author(id="1", handle="a")
    assert "unknown" in filter_reason(FilterSettings(min_followers=1), post(author=unknown), NOW)
    assert "unknown" in filter_reason(FilterSettings(min_account_age_days=1), post(author=unknown), NOW)
    assert "unknown" in filter_reason(FilterSettings(languages=("en",)), post(), NOW)
    assert "unknown" in filter_reason(FilterSettings(exclude_replies=True), post(), NOW)
    assert filter_reason(FilterSettings(exclude_replies=True), post(is_reply=False, is_repost=False), NOW) is None


def test_account_age_and_counts():
    young = Author(id="1", handle="a", created_at=NOW - timedelta(days=3))
    assert filter_reason(FilterSettings(min_account_age_days=30), post(author=young), NOW) == \
        "filter: min_account_age_days 30: account is 3 days old"
    assert filter_reason(FilterSettings(max_links=0), post(urls=["https://a.example"]), NOW) == \
        "filter: max_links 0: post has 1"
    assert filter_reason(FilterSettings(max_mentions=1), post(mentions=["a", "b"]), NOW) == \
        "filter: max_mentions 1: post has 2"


def test_banned_words_use_the_rule_language_tokens():
    f = FilterSettings(banned_words=("café", "free money"))
    assert filter_reason(f, post("Best CAFE in town"), NOW) == "filter: banned word 'café'"
    assert filter_reason(f, post("FREE-money now"), NOW) == "filter: banned word 'free money'"
    assert filter_reason(f, post("cafeteria food, money is free"), NOW) is None
    assert filter_reason(f, post("hi", hashtags=["cafe"]), NOW) == "filter: banned word 'café'"


def test_duplicates_exact_and_near():
    f = FilterSettings(duplicate_window_minutes=30)
    long_text = normalized_text(post("The exam timetable for the spring term is out now, check your email"))
    near = normalized_text(post("The exam timetable for the spring term is out now!! check your e-mail"))
    assert duplicate_reason(f, near, [(NOW - timedelta(minutes=5), long_text)], NOW)
    assert duplicate_reason(f, near, [(NOW - timedelta(minutes=45), long_text)], NOW) is None  # outside the window
    short_a, short_b = normalized_text(post("ana studying late")), normalized_text(post("ben studying late"))
    assert duplicate_reason(f, short_b, [(NOW, short_a)], NOW) is None
    assert duplicate_reason(f, short_a, [(NOW, short_a)], NOW)
    assert normalized_text(post("Read https://x.example/a now")) == normalized_text(post("read now"))


def test_an_author_who_blocks_the_account_is_never_reposted_even_through_a_repost():
    from app.engine.decide import stop_reason
    from app.engine.view import AccountView

    view = AccountView(1, "club", "bluesky")
    blocker = Author(id="did:plc:b", handle="b", blocks_account=True)
    assert stop_reason(post(author=blocker), view, NOW) == "opted out: author blocks the account"
    boost = post(author=Author(id="2", handle="fan"), is_repost=True, reposted_author=blocker)
    assert stop_reason(boost, view, NOW) == "opted out: author blocks the account"
    assert stop_reason(post(author=Author(id="3", handle="ok", blocks_account=False)), view, NOW) is None
