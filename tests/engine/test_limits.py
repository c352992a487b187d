"""earliest_send: windows, intervals, quiet hours in the account's time zone. Pure."""

from datetime import UTC, datetime, timedelta

from app.engine.limits import LimitSettings, earliest_send

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def test_no_limits_means_now():
    assert earliest_send(LimitSettings(), [NOW - timedelta(seconds=1)] * 100, NOW) == NOW


def test_hourly_window_waits_for_the_oldest_send_to_leave_it():
    sent = [NOW - timedelta(minutes=m) for m in (50, 40, 30)]
    assert earliest_send(LimitSettings(max_per_hour=3), sent, NOW) == NOW + timedelta(minutes=10)
    assert earliest_send(LimitSettings(max_per_hour=4), sent, NOW) == NOW


def test_daily_window_and_platform_window():
    sent = [NOW - timedelta(hours=h) for h in (23, 2)]
    assert earliest_send(LimitSettings(max_per_day=2), sent, NOW) == NOW + timedelta(hours=1)
    x_window = LimitSettings(windows=((50, 900),))
    burst = [NOW - timedelta(seconds=s) for s in range(50)]
    assert earliest_send(x_window, burst, NOW) == burst[-1] + timedelta(seconds=900)


def test_min_interval():
    sent = [NOW - timedelta(seconds=20)]
    assert earliest_send(LimitSettings(min_interval_seconds=60), sent, NOW) == NOW + timedelta(seconds=40)


def test_quiet_hours_overnight_in_the_account_time_zone():
    limits = LimitSettings(quiet_hours_start="22:00", quiet_hours_end="07:00", timezone="Europe/Rome")
    late = datetime(2026, 3, 10, 22, 30, tzinfo=UTC)  # 23:30 in Rome
    assert earliest_send(limits, [], late) == datetime(2026, 3, 11, 6, 0, tzinfo=UTC)  # 07:00 Rome
    early = datetime(2026, 3, 11, 5, 0, tzinfo=UTC)  # 06:00 Rome
    assert earliest_send(limits, [], early) == datetime(2026, 3, 11, 6, 0, tzinfo=UTC)
    assert earliest_send(limits, [], NOW) == NOW  # 13:00 in Rome


def test_quiet_hours_then_interval_spaces_the_morning_queue():
    limits = LimitSettings(quiet_hours_start="22:00", quiet_hours_end="07:00", min_interval_seconds=300)
    night = datetime(2026, 3, 10, 23, 0, tzinfo=UTC)
    morning = datetime(2026, 3, 11, 7, 0, tzinfo=UTC)
    first = earliest_send(limits, [], night)
    assert first == morning
    assert earliest_send(limits, [first], first) == morning + timedelta(minutes=5)
