"""Account conditions: each thing wrong by name, and the status they add up to."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from app.accounts.conditions import (
    Severity,
    clear_condition,
    current,
    expire,
    needs_attention,
    polls_blocked_until,
    record_rate_limit,
    send_blocked_until,
    set_condition,
)

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def account():
    return SimpleNamespace(conditions={}, status="active", status_detail=None, rate_limited_until=None)


def test_a_poll_bucket_limit_never_holds_sends_nor_makes_the_account_rate_limited():
    a = account()
    record_rate_limit(a, bucket="search", until=NOW + timedelta(minutes=15), during="poll", source="tag:coffee",
                      now=NOW)
    assert a.status == "active" and a.rate_limited_until is None
    assert send_blocked_until(a, NOW) is None and polls_blocked_until(a, NOW) is None
    assert a.status_detail.startswith("polling tag:coffee rate limited until")


def test_a_shared_bucket_limit_met_by_a_poll_holds_sends_and_polls():
    a = account()
    until = NOW + timedelta(minutes=5)
    record_rate_limit(a, bucket="account", until=until, during="poll", source="home", now=NOW)
    assert a.status == "rate_limited" and send_blocked_until(a, NOW, bucket="deletes") == until
    assert polls_blocked_until(a, NOW) == until


def test_a_send_limit_holds_the_sends_of_its_bucket_only():
    a = account()
    until = NOW + timedelta(minutes=15)
    record_rate_limit(a, bucket="retweets", until=until, during="send", now=NOW)
    assert send_blocked_until(a, NOW, bucket="retweets") == until
    assert send_blocked_until(a, NOW, bucket="create_post") is None
    assert a.status == "rate_limited" and a.rate_limited_until == until
    record_rate_limit(a, bucket="retweets", until=until, during="poll", source="x", now=NOW)
    assert a.conditions["rate_limited:retweets"]["holds"] == "sends"  # a poll meeting it holds no less


def test_send_limit_sets_rate_limited_until_and_expires_with_a_current_detail():
    a = account()
    until = NOW + timedelta(minutes=5)
    record_rate_limit(a, bucket="account", until=until, during="send", now=NOW)
    assert a.status == "rate_limited" and a.rate_limited_until == until
    assert "rate limited until" in a.status_detail
    later = until + timedelta(seconds=1)
    shown = current(a, later)  # read-time: nothing written
    assert shown.status == "active" and shown.rate_limited_until is None and shown.status_detail is None
    assert a.status == "rate_limited" and a.conditions
    expire(a, later)
    assert a.status == "active" and a.rate_limited_until is None and a.status_detail is None
    assert a.conditions == {}


def test_attention_wins_and_clearing_it_restores_the_rest():
    a = account()
    set_condition(a, "credentials", severity=Severity.attention, message="token refused", http_status=401, now=NOW)
    set_condition(a, "bot_flag", severity=Severity.warning, message="bot flag not set", now=NOW)
    assert a.status == "needs_attention" and a.status_detail == "token refused" and needs_attention(a)
    first_since = a.conditions["credentials"]["since"]
    set_condition(a, "credentials", severity=Severity.attention, message="token refused again", now=NOW + timedelta(1))
    assert a.conditions["credentials"]["since"] == first_since  # one incident, refreshed
    assert clear_condition(a, "credentials", now=NOW)
    assert a.status == "active" and a.status_detail == "bot flag not set" and not needs_attention(a)
    assert not clear_condition(a, "credentials", now=NOW)
