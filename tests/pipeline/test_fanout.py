"""Fanout: each platform call within its budget (CallAbandoned past it), accounts run side by side,
bounded overall and per server, a slow account left to finish in the background."""

from __future__ import annotations

import asyncio

import pytest

from app.pipeline.fanout import CallAbandoned, Fanout, host_of, within
from app.platforms.base import OutcomeUnknown


async def test_within_gives_the_answer_of_a_call_in_time():
    async def answer() -> str:
        await asyncio.sleep(0)
        return "ok"

    assert await within(1.0, answer(), "mock: polling") == "ok"


async def test_a_call_past_its_budget_is_abandoned_as_an_unknown_outcome():
    with pytest.raises(CallAbandoned) as info:
        await within(0.05, asyncio.sleep(10), "mock: reposting 42")
    assert isinstance(info.value, OutcomeUnknown)  # settled by asking the platform, never simply resent
    assert info.value.kind == "timeout" and info.value.retryable
    assert str(info.value) == "mock: reposting 42 took longer than 0.05 s; abandoned"


async def test_errors_of_the_call_pass_through_unchanged():
    async def broken():
        raise ValueError("adapter bug")

    with pytest.raises(ValueError, match="adapter bug"):
        await within(1.0, broken(), "mock")


@pytest.mark.parametrize("platform, config, host", [
    ("mastodon", {"base_url": "https://social.example/"}, "social.example"),
    ("bluesky", {"pds_url": "https://pds.example"}, "pds.example"),
    ("x", {}, "x"),
    ("x", None, "x"),
    ("mock", {"world": "cafe"}, "mock:cafe"),
    ("mock", {}, "mock:default"),
])
def test_host_of_names_the_server_an_accounts_calls_go_to(platform, config, host):
    assert host_of(platform, config) == host


async def test_a_round_sums_the_work_done_and_bounds_calls_per_server():
    fanout = Fanout(overall=10, per_host=2)
    running = {"a": 0, "b": 0}
    peak = {"a": 0, "b": 0}

    def job(host: str, result: int):
        async def run() -> int:
            running[host] += 1
            peak[host] = max(peak[host], running[host])
            await asyncio.sleep(0.02)
            running[host] -= 1
            return result
        return run

    work = {i: ("a" if i < 5 else "b", job("a" if i < 5 else "b", i)) for i in range(8)}
    assert await fanout.round("poll", work, wait=None) == sum(range(8))
    assert peak == {"a": 2, "b": 2}
    assert fanout.busy("poll") == [] and fanout.running == {}


async def test_a_slow_account_goes_on_in_the_background_and_is_left_out_meanwhile():
    fanout = Fanout(overall=4, per_host=4)
    release = asyncio.Event()

    async def slow() -> int:
        await release.wait()
        return 5

    async def quick() -> int:
        return 1

    assert await fanout.round("send", {1: ("h", slow), 2: ("h", quick)}, wait=0.05) == 1
    assert fanout.busy("send") == [1] and fanout.busy("poll") == []
    release.set()
    await asyncio.sleep(0.01)
    assert fanout.busy("send") == []


async def test_a_failing_account_does_not_spoil_the_round_and_close_cancels_what_runs():
    fanout = Fanout(overall=4, per_host=4)

    async def fails() -> int:
        raise RuntimeError("boom")

    async def hangs() -> int:
        await asyncio.Event().wait()
        return 0

    async def works() -> int:
        return 3

    assert await fanout.round("poll", {1: ("h", fails), 2: ("h", works), 3: ("h", hangs)}, wait=0.05) == 3
    assert fanout.busy("poll") == [3]
    await fanout.close()
    assert fanout.running == {}


async def test_work_claimed_ahead_of_its_time_waits_without_holding_a_place():
    """A source claimed before it is due waits for its time outside the bounds: the server's places
    go meanwhile to work that is due now (it held one through its wait, and with 4 places a
    server and hundreds of sources claimed ahead, the worker polled a fraction of what it could)."""
    fanout = Fanout(overall=1, per_host=1)
    order: list[str] = []

    async def ahead() -> int:
        order.append("ahead")
        return 1

    async def due_now() -> int:
        order.append("due now")
        return 1

    later = fanout.start("poll", {1: ("mock:default", ahead)}, delays={1: 0.2})
    assert fanout.waiting("poll") == 1  # the poll job claims that much less (started, not running yet)
    now = fanout.start("poll", {2: ("mock:default", due_now)})
    assert await fanout.collect("poll", now, wait=None) == 1
    assert order == ["due now"] and fanout.busy("poll") == [1]  # the early one still waits for its time
    assert await fanout.collect("poll", later, wait=None) == 1
    assert order == ["due now", "ahead"] and fanout.waiting("poll") == 0


async def test_polls_filling_a_servers_places_never_hold_a_send():
    """Each stage has its own places: with hundreds of sources due, polls queued for the server's
    places, and every send waited behind them (the oldest due action aged with the poll backlog)."""
    fanout = Fanout(overall=1, per_host=1)

    async def hangs() -> int:
        await asyncio.Event().wait()
        return 0

    async def send() -> int:
        return 1

    assert await fanout.round("poll", {1: ("mock:default", hangs), 2: ("mock:default", hangs)}, wait=0.01) == 0
    assert await fanout.round("send", {1: ("mock:default", send)}, wait=None) == 1
    await fanout.close()
