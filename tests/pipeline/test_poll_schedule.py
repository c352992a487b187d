"""Polling per source: each source has its own interval (quiet slower, busy faster, within the
platform's budget), its own due time spread by jitter; a failing one backs off."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.db.base import utcnow
from app.db.session import transaction
from app.models import Cursor
from app.pipeline import poll_schedule
from app.pipeline.poll_schedule import BUSY_POSTS, JITTER, MAX_FACTOR, MIN_FACTOR, backoff, bounds, due_after, fitted
from app.pipeline.poller import poll_due
from tests.api.helpers import make_account, world

BASE = 60.0


def test_a_quiet_source_s_interval_doubles_up_to_the_maximum():
    limits = bounds(BASE, "mock", 1)
    interval, seen = None, []
    for _ in range(6):
        interval = fitted(interval, limits, fetched=0)
        seen.append(interval)
    assert seen == [120.0, 240.0, 480.0, BASE * MAX_FACTOR, BASE * MAX_FACTOR, BASE * MAX_FACTOR]


def test_a_busy_source_s_interval_halves_down_to_the_minimum_and_a_middling_one_keeps_it():
    limits = bounds(BASE, "mock", 1)
    interval, seen = None, []
    for _ in range(4):
        interval = fitted(interval, limits, fetched=BUSY_POSTS)
        seen.append(interval)
    assert seen == [30.0, BASE * MIN_FACTOR, BASE * MIN_FACTOR, BASE * MIN_FACTOR]
    assert fitted(120.0, limits, fetched=BUSY_POSTS - 1) == 120.0
    assert fitted(None, limits, fetched=1) == BASE


def test_the_platform_s_budget_sets_the_floor_for_all_of_an_account_s_sources():
    # Mastodon: 300 calls per 5 minutes, half for polls: 40 sources share 0.5 calls/s -> 80 s each
    limits = bounds(BASE, "mastodon", 40)
    assert limits.low == 80.0 and limits.base == 80.0 and limits.high == BASE * MAX_FACTOR
    assert fitted(None, limits, fetched=100) == 80.0  # busy, but no faster than the budget allows
    assert bounds(BASE, "mastodon", 1).low == BASE * MIN_FACTOR  # one source: the factor's floor
    assert bounds(BASE, "x", 10).low == 100.0  # recent search: 0.1 calls/s for polls
    assert bounds(BASE, "x", 10, share=1.0).low == 50.0
    assert bounds(BASE, "x", 10, share=0).low == BASE * MIN_FACTOR  # no fitting (the tests' settings)
    # so many sources that even the floor is above the usual maximum: the floor wins
    assert bounds(BASE, "x", 100).high == bounds(BASE, "x", 100).low == 1000.0


def test_a_failing_source_backs_off_doubling_up_to_the_maximum():
    limits = bounds(BASE, "mock", 1)
    assert [backoff(limits, n) for n in (1, 2, 3, 4, 5, 1000)] == [60.0, 120.0, 240.0, 480.0, 480.0, 480.0]


def test_jitter_spreads_due_times_within_a_tenth_of_the_interval():
    now, rng = utcnow(), random.Random(12)
    offsets = [(due_after(now, BASE, rng) - now).total_seconds() for _ in range(1000)]
    assert all(BASE * (1 - JITTER) <= o <= BASE * (1 + JITTER) for o in offsets)
    assert max(offsets) - min(offsets) > BASE * JITTER * 1.8  # spread over (nearly) the whole band
    assert len({round(o, 3) for o in offsets}) > 900  # hardly two alike


# -- through the poller, on both databases --------------------------------------------------------

@pytest.fixture
def base(runtime, monkeypatch) -> float:
    """A base interval of a minute (the tests' settings poll every millisecond)."""
    monkeypatch.setattr(runtime.settings, "poll_interval_seconds", BASE)
    return BASE


async def _cursors(runtime) -> dict[str, Cursor]:
    async with runtime.sessions() as session:
        rows = await session.scalars(select(Cursor).where(Cursor.account_id.is_not(None)))
        return {c.source: c for c in rows}


async def _make_due(runtime, *sources: str) -> None:
    async with transaction(runtime.sessions) as session:
        await session.execute(update(Cursor).where(Cursor.source.in_(sources))
                              .values(next_poll_at=utcnow() - timedelta(seconds=1)))


def _due_in(cursor: Cursor, before, after, seconds: float) -> bool:
    return (before + timedelta(seconds=seconds * (1 - JITTER)) <= cursor.next_poll_at
            <= after + timedelta(seconds=seconds * (1 + JITTER)))


async def test_the_first_poll_of_a_new_source_happens_at_once(client, admin, runtime, base):
    await make_account(client, admin, sources=["tag:coffee"])
    world().publish("alice", "fresh #coffee")
    assert await poll_due(runtime) == 1
    assert (await _cursors(runtime))["tag:coffee"].poll_count == 1


async def test_a_quiet_source_is_polled_less_often_and_a_busy_one_more(client, admin, runtime, base):
    await make_account(client, admin, sources=["tag:quiet", "tag:busy"])
    await poll_due(runtime)  # first poll: nothing on either
    for _ in range(BUSY_POSTS):
        world().publish("alice", "more #busy")
    await _make_due(runtime, "tag:quiet", "tag:busy")
    before = utcnow()
    await poll_due(runtime)
    after = utcnow()
    cursors = await _cursors(runtime)
    quiet, busy = cursors["tag:quiet"], cursors["tag:busy"]
    assert quiet.poll_count == busy.poll_count == 2
    assert quiet.poll_interval_seconds == min(base * 4, base * MAX_FACTOR)  # empty twice: doubled twice
    assert busy.poll_interval_seconds == base  # empty (doubled), then a busy page (halved)
    assert _due_in(quiet, before, after, base * 4) and _due_in(busy, before, after, base)


async def test_an_account_s_mentions_are_never_slowed_past_the_base_interval(client, admin, runtime, base):
    """A "stop" must not wait 8 quiet intervals: the mentions source stays at the base interval."""
    await make_account(client, admin, sources=["tag:quiet"], stop_words=None)
    for _ in range(3):  # three empty polls of each
        await _make_due(runtime, "tag:quiet", "mentions")
        await poll_due(runtime)
    cursors = await _cursors(runtime)
    assert cursors["mentions"].poll_count == cursors["tag:quiet"].poll_count == 3
    assert cursors["tag:quiet"].poll_interval_seconds == base * 8  # doubled three times
    assert cursors["mentions"].poll_interval_seconds == base


async def test_a_due_source_is_polled_whatever_the_others_not_due(client, admin, runtime, base):
    await make_account(client, admin, sources=["tag:a", "tag:b", "tag:c"])
    await make_account(client, admin, handle="teaclub", sources=["tag:d"])
    await poll_due(runtime)
    await _make_due(runtime, "tag:b")
    world().publish("alice", "news #b")
    assert await poll_due(runtime) == 1
    counts = {source: c.poll_count for source, c in (await _cursors(runtime)).items()}
    assert counts == {"tag:a": 1, "tag:b": 2, "tag:c": 1, "tag:d": 1}


async def test_a_failing_source_backs_off_and_its_next_success_brings_it_back(client, admin, runtime, base):
    await make_account(client, admin, sources=["tag:coffee"])
    for failures in (1, 2, 3):
        world().fail_next(404)
        before = utcnow()
        await poll_due(runtime)
        cursor = (await _cursors(runtime))["tag:coffee"]
        assert cursor.consecutive_failures == failures
        assert _due_in(cursor, before, utcnow(), min(base * 2 ** (failures - 1), base * MAX_FACTOR))
        await _make_due(runtime, "tag:coffee")
    world().publish("alice", "back #coffee")
    before = utcnow()
    assert await poll_due(runtime) == 1
    cursor = (await _cursors(runtime))["tag:coffee"]
    assert cursor.consecutive_failures == 0 and _due_in(cursor, before, utcnow(), base)


async def test_sources_polled_together_come_due_apart(client, admin, runtime, base, monkeypatch):
    monkeypatch.setattr(poll_schedule, "_rng", random.Random(7))
    await make_account(client, admin, sources=[f"tag:t{i}" for i in range(20)])
    await poll_due(runtime)
    due = sorted(c.next_poll_at for c in (await _cursors(runtime)).values())
    assert len(set(due)) == 20
    spread = (due[-1] - due[0]).total_seconds()
    assert spread > base * JITTER  # over seconds, not lockstep


@pytest.mark.parametrize("platform", ["mastodon", "bluesky", "x"])
def test_every_real_platform_says_what_its_polls_may_spend(platform):
    limits = bounds(BASE, platform, 1)
    assert limits.low >= BASE * MIN_FACTOR and limits.high >= limits.low


async def test_a_source_due_before_the_next_run_is_claimed_now_and_polled_at_its_time(client, admin, runtime, base):
    await make_account(client, admin, sources=["tag:soon", "tag:later"])
    await poll_due(runtime)
    async with transaction(runtime.sessions) as session:
        await session.execute(update(Cursor).where(Cursor.source == "tag:soon")
                              .values(next_poll_at=utcnow() + timedelta(seconds=0.3)))
    due = (await _cursors(runtime))["tag:soon"].next_poll_at
    await poll_due(runtime, ahead=0.0)
    assert (await _cursors(runtime))["tag:soon"].poll_count == 1  # not due yet: left alone
    await poll_due(runtime, ahead=1.0)  # the poll job looks one run ahead
    cursors = await _cursors(runtime)
    assert cursors["tag:soon"].poll_count == 2 and cursors["tag:soon"].last_polled_at >= due  # not before its time
    assert cursors["tag:later"].poll_count == 1 and cursors["tag:soon"].lease_owner is None
