"""Leases: claimed rows are one worker's until released or expired; a lease taken over is seen (LeaseLost)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.db.base import utcnow
from app.db.session import transaction
from app.models import Cursor
from app.pipeline.leases import Heartbeat, claim, hold, release, renew
from app.runtime import Runtime
from tests.conftest import make_settings


async def _cursors(runtime, n: int) -> list[int]:
    """n free rows to lease (match-style cursors: they belong to no account)."""
    async with transaction(runtime.sessions) as session:
        rows = [Cursor(account_id=None, source=f"s{i}", next_poll_at=utcnow()) for i in range(n)]
        session.add_all(rows)
        await session.flush()
        return [r.id for r in rows]


async def _claim(runtime, owner: str, *, now=None, limit: int = 10, seconds: int = 60) -> list[int]:
    async with transaction(runtime.sessions) as session:
        return await claim(session, Cursor, Cursor.source.like("s%"), order=[Cursor.id], limit=limit,
                           owner=owner, now=now or utcnow(), seconds=seconds)


async def _owners(runtime) -> dict[int, str | None]:
    async with runtime.sessions() as session:
        return dict((await session.execute(select(Cursor.id, Cursor.lease_owner))).all())


async def test_claimed_rows_are_one_workers_until_their_lease_runs_out(runtime):
    ids = await _cursors(runtime, 3)
    assert await _claim(runtime, "w1", limit=2) == ids[:2]
    assert await _claim(runtime, "w2") == ids[2:]  # only what is free
    assert await _claim(runtime, "w3") == []
    later = utcnow() + timedelta(seconds=61)
    assert await _claim(runtime, "w3", now=later) == ids  # a dead worker's rows are taken over
    assert set((await _owners(runtime)).values()) == {"w3"}


async def test_hold_is_true_only_for_the_holder_and_can_extend_the_lease(runtime):
    (row,) = await _cursors(runtime, 1)
    await _claim(runtime, "w1", seconds=60)
    async with transaction(runtime.sessions) as session:
        assert await hold(session, Cursor, row, "w2") is False
        assert await hold(session, Cursor, row, "w1", seconds=600) is True
    async with runtime.sessions() as session:
        expires = await session.scalar(select(Cursor.lease_expires_at).where(Cursor.id == row))
    assert expires > utcnow() + timedelta(seconds=500)


async def test_renew_extends_its_own_and_names_the_rows_taken_over(runtime):
    ids = await _cursors(runtime, 3)
    await _claim(runtime, "w1", seconds=60)
    async with transaction(runtime.sessions) as session:
        await session.execute(update(Cursor).where(Cursor.id == ids[0]).values(lease_owner="w2"))
        await release(session, Cursor, [ids[1]], "w1")  # given back: not taken over
    async with transaction(runtime.sessions) as session:
        assert await renew(session, Cursor, ids, "w1", 600) == [ids[0]]
        assert await renew(session, Cursor, [], "w1", 600) == []
    async with runtime.sessions() as session:
        expires = await session.scalar(select(Cursor.lease_expires_at).where(Cursor.id == ids[2]))
    assert expires > utcnow() + timedelta(seconds=500)
    assert await _owners(runtime) == {ids[0]: "w2", ids[1]: None, ids[2]: "w1"}


async def test_release_with_an_owner_never_frees_another_workers_lease(runtime):
    ids = await _cursors(runtime, 2)
    await _claim(runtime, "w1", limit=1)
    await _claim(runtime, "w2", limit=1)
    async with transaction(runtime.sessions) as session:
        await release(session, Cursor, ids, "w1")
    assert await _owners(runtime) == {ids[0]: None, ids[1]: "w2"}
    async with transaction(runtime.sessions) as session:
        await release(session, Cursor, ids)  # without an owner: everything named (shutdown, admin)
    assert await _owners(runtime) == {ids[0]: None, ids[1]: None}


@pytest.fixture
async def short_lease(db_url, runtime):
    """A second worker on the same database whose leases last 5 s (beats every ~1.7 s)."""
    rt = Runtime.build(make_settings(db_url, lease_seconds=5, worker_id="beating"))
    yield rt
    await rt.close()


async def _until(condition, seconds: float = 15.0) -> None:
    """Wait for `condition()` (awaitable) to hold; fail after `seconds` (the machine may be busy)."""
    for _ in range(int(seconds / 0.1)):
        if await condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition never held")


async def test_a_heartbeat_keeps_the_lease_while_work_is_in_hand_and_sees_it_taken_over(short_lease):
    rt = short_lease
    ids = await _cursors(rt, 1)
    await _claim(rt, rt.worker_id, seconds=5)
    async with rt.sessions() as session:
        claimed_until = await session.scalar(select(Cursor.lease_expires_at))

    async def renewed() -> bool:
        async with rt.sessions() as session:
            return await session.scalar(select(Cursor.lease_expires_at)) > claimed_until

    async def lost() -> bool:
        return beat.lost

    async with Heartbeat(rt, Cursor, ids) as beat:
        await _until(renewed)
        assert not beat.lost
        async with transaction(rt.sessions) as session:
            await session.execute(update(Cursor).values(lease_owner="other"))
        await _until(lost)
    async with transaction(rt.sessions) as session:
        assert not await hold(session, Cursor, ids[0], rt.worker_id)  # where a job raises LeaseLost
    assert (await _owners(rt)) == {ids[0]: "other"}  # the lost lease is left to its new holder
