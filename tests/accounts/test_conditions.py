"""Account conditions: each thing wrong by name, and the status they add up to."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from app.accounts.conditions import (
    SEND_BUCKET, Severity, clear_condition, expire, needs_attention, send_blocked_until, set_condition,
)

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def account():
    return SimpleNamespace(conditions={}, status="active", status_detail=None, rate_limited_until=None)


def test_a_poll_bucket_limit_never_holds_sends_nor_makes_the_account_rate_limited():
    a = account()
    set_condition(a, "rate_limited:poll:search", severity=Severity.limit, message="search limited",
                  until=NOW + timedelta(minutes=15), now=NOW)
    assert a.status == "active" and a.rate_limited_until is None
    assert send_blocked_until(a, NOW) is None
    assert a.status_detail == "search limited"


def test_send_limit_sets_rate_limited_until_and_expires_with_a_current_detail():
    a = account()
    until = NOW + timedelta(minutes=5)
    set_condition(a, f"rate_limited:{SEND_BUCKET}", severity=Severity.limit, message="x", until=until, now=NOW)
    assert a.status == "rate_limited" and a.rate_limited_until == until
    assert "rate limited until" in a.status_detail
    expire(a, until + timedelta(seconds=1))
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
