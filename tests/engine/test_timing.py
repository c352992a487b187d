"""A rule's timing, pure: delay, spread points, the next local time (DST included), undo times."""

from datetime import UTC, datetime, timedelta

from app.engine.timing import NOW, Timing, Window, halving, next_local, scheduled, undo_at

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_now_and_delay():
    assert scheduled(NOW, T0) is None and Timing.of(None) == NOW
    assert scheduled(Timing.of({"mode": "delay", "minutes": 45}), T0) == T0 + timedelta(minutes=45)


def test_spread_points_halve_the_widest_gap_and_stay_in_the_window():
    assert [halving(k) for k in range(8)] == [0, 0.5, 0.25, 0.75, 0.125, 0.625, 0.375, 0.875]
    assert all(0 <= halving(k) < 1 for k in range(1000))
    spread = Timing.of({"mode": "spread", "window_minutes": 120})
    assert scheduled(spread, T0, window=Window(T0, 3)) == T0 + timedelta(minutes=90)
    late = T0 + timedelta(minutes=100)  # a point already past goes at once
    assert scheduled(spread, late, window=Window(T0, 1)) == late
    after = T0 + timedelta(minutes=121)  # after the window: a new one opens, its first point at once
    assert scheduled(spread, after, window=Window(T0, 5)) == after


def test_next_local_time_in_the_accounts_zone():
    tokyo = next_local(("09:00", "17:30"), "Asia/Tokyo", T0)  # 12:00 UTC is 21:00 in Tokyo
    assert tokyo == datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # 09:00 the next morning
    assert next_local(("12:00",), "UTC", T0) == T0  # at the time itself: now
    # the night Berlin jumps from 02:00 to 03:00 (01:00 UTC), 02:30 does not exist: it goes at 03:30
    jump = datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
    assert next_local(("02:30",), "Europe/Berlin", jump) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_undo_at():
    assert undo_at(T0, 24) == T0 + timedelta(hours=24) and undo_at(T0, None) is None
