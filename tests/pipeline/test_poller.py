"""The poller: a due source is fetched into the inbox and its cursor moves; failures and lost leases keep it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select, update

from app.db.base import utcnow
from app.db.session import transaction
from app.models import Cursor, SeenPost
from app.pipeline.poller import poll_due
from tests.api.helpers import make_account, make_rule, world


async def _cursor(runtime) -> Cursor:
    async with runtime.sessions() as session:
        return await session.scalar(select(Cursor).where(Cursor.source == "tag:coffee"))


async def _inbox(runtime) -> list[str]:
    async with runtime.sessions() as session:
        return list(await session.scalars(select(SeenPost.post_id).order_by(SeenPost.id)))


async def _due_in(runtime, seconds: float) -> None:
    async with transaction(runtime.sessions) as session:
        await session.execute(update(Cursor).values(next_poll_at=utcnow() + timedelta(seconds=seconds)))


async def test_a_due_source_is_fetched_into_the_inbox_and_its_cursor_moves_on(client, admin, runtime):
    await make_account(client, admin, sources=["tag:coffee"])
    first = world().publish("alice", "first #coffee")
    world().publish("alice", "not for this source")
    before = utcnow()
    assert await poll_due(runtime) == 1
    cursor = await _cursor(runtime)
    assert cursor.position == world().posts[-1].id and cursor.poll_count == 1
    # one new post: the source keeps the base interval (give or take its jitter)
    assert cursor.next_poll_at >= before + timedelta(seconds=0.9 * runtime.settings.poll_interval_seconds)
    assert cursor.lease_owner is None and cursor.last_success_at is not None
    assert await _inbox(runtime) == [first.id]

    second = world().publish("bob", "second #coffee")
    await _due_in(runtime, 3600)
    assert await poll_due(runtime) == 0  # not due: not fetched
    assert (await _cursor(runtime)).poll_count == 1
    await _due_in(runtime, -1)
    assert await poll_due(runtime) == 1
    assert (await _cursor(runtime)).position == second.id
    assert await _inbox(runtime) == [first.id, second.id]


async def test_a_failed_poll_keeps_the_cursor_and_says_why(client, admin, runtime):
    await make_account(client, admin, sources=["tag:coffee"])
    world().publish("alice", "one #coffee")
    world().fail_next(404)
    assert await poll_due(runtime) == 0
    cursor = await _cursor(runtime)
    assert cursor.position is None and cursor.consecutive_failures == 1 and cursor.error_status == 404
    assert cursor.lease_owner is None
    assert await _inbox(runtime) == []
    await _due_in(runtime, -1)
    assert await poll_due(runtime) == 1
    assert (await _cursor(runtime)).consecutive_failures == 0


async def test_a_rate_limited_poll_is_due_again_when_the_limit_ends(client, admin, runtime):
    await make_account(client, admin, sources=["tag:coffee"])
    world().fail_next(429, {"Retry-After": "600"})
    before = utcnow()
    assert await poll_due(runtime) == 0
    cursor = await _cursor(runtime)
    assert before + timedelta(seconds=590) <= cursor.next_poll_at <= utcnow() + timedelta(seconds=610)


async def test_a_poll_whose_lease_was_taken_over_records_nothing(client, admin, runtime):
    """LeaseLost: the fetch answered, but the cursor is another worker's now; that worker will read
    the same posts, so this one keeps neither them nor the new position."""
    await make_account(client, admin, sources=["tag:coffee"])
    world().publish("alice", "taken #coffee")
    world().stall_seconds = 1.0
    polling = asyncio.create_task(poll_due(runtime))
    for _ in range(200):
        await asyncio.sleep(0.02)
        if (cursor := await _cursor(runtime)) is not None and cursor.lease_owner == runtime.worker_id:
            break
    assert cursor is not None and cursor.lease_owner == runtime.worker_id  # the poll is under way
    async with transaction(runtime.sessions) as session:
        await session.execute(update(Cursor).values(lease_owner="other-worker"))
    assert await polling == 0
    cursor = await _cursor(runtime)
    assert cursor.position is None and cursor.poll_count == 0 and cursor.lease_owner == "other-worker"
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(SeenPost)) == 0


async def test_once_a_source_finds_the_credentials_refused_the_account_s_other_sources_are_not_asked(
        client, admin, runtime):
    """A revoked password met by the first source stops the round for the account: each further
    source would spend a failed login (seen on the Bluesky dev network, docs/tryouts/issue10-recheck.md)."""
    await make_account(client, admin, sources=["tag:coffee", "tag:tea", "tag:latte"])
    world().fail_next(401, times=10)
    assert await poll_due(runtime) == 0
    async with runtime.sessions() as session:
        cursors = (await session.scalars(select(Cursor).where(Cursor.account_id.is_not(None)))).all()
    asked = [c for c in cursors if c.poll_count]
    assert len(asked) == 1 and asked[0].error_status == 401, [(c.source, c.poll_count) for c in cursors]
    assert all(c.lease_owner is None for c in cursors)


async def test_the_claim_takes_tens_of_thousands_of_wanted_sources_as_one_parameter(client, admin, runtime):
    """30,000 sources once made the claim an IN list of 60,000 parameters: PostgreSQL refused it
    (stack depth) and SQLite allows 32,766. The pairs go as one parameter, the cursors are made in
    batches, and only wanted sources are claimed, the most overdue first."""
    from app.pipeline import repository
    from app.pipeline.leases import claim

    account = await make_account(client, admin, sources=["tag:coffee"])
    pairs = [(account["id"], f"tag:s{i}") for i in range(17_000)]  # 34,000 values
    now = utcnow()
    async with transaction(runtime.sessions) as session:
        await repository.ensure_cursors(session, pairs, now=now - timedelta(seconds=60))
        await repository.ensure_cursors(session, pairs[:10], now=now)  # already there: left alone
    async with transaction(runtime.sessions) as session:
        assert await session.scalar(select(func.count()).select_from(Cursor)) == 17_000
        await session.execute(update(Cursor).where(Cursor.source == "tag:s5")
                              .values(next_poll_at=now - timedelta(seconds=600)))
        wanted = pairs[1:]  # tag:s0 is no longer wanted
        ids = await claim(session, Cursor, repository.cursors_among(session, wanted), Cursor.next_poll_at <= now,
                          order=[Cursor.next_poll_at, Cursor.id], limit=3, owner="w", now=now, seconds=60)
        sources = [(await session.get(Cursor, i)).source for i in ids]
    assert sources == ["tag:s5", "tag:s1", "tag:s2"]


async def test_a_post_holding_a_nul_or_a_lone_surrogate_is_stored_cleaned_and_the_poll_goes_on(
        client, admin, pipeline, runtime):
    # PostgreSQL refuses NUL in text and JSONB, and UTF-8 cannot encode a lone surrogate: such a post
    # failed the whole poll there, every time, and held the source where it was. The API refuses such
    # input with a 422; what a platform sends is stored without them.
    account = await make_account(client, admin, sources=["tag:coffee"])
    await make_rule(client, admin, account["id"], "#coffee")
    odd = world().publish("nul\x00author", "nul\x00 here and a lone \ud800 surrogate #coffee")
    fine = world().publish("alice", "plain #coffee")
    assert await poll_due(runtime) == 2
    assert (await _cursor(runtime)).position == fine.id
    async with runtime.sessions() as session:
        stored = {row.post_id: row for row in await session.scalars(select(SeenPost))}
    assert stored[odd.id].data["text"] == "nul here and a lone \ufffd surrogate #coffee"
    assert stored[odd.id].author_handle == "nulauthor"
    await pipeline.tick(poll=False)
    assert {post_id for _account, post_id in world().reposts} == {odd.id, fine.id}
