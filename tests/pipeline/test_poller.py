"""The poller: a due source is fetched into the inbox and its cursor moves; failures and lost leases keep it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.db.base import utcnow
from app.db.dialect import among
from app.db.session import transaction
from app.models import Cursor, SeenPost
from app.pipeline import repository
from app.pipeline.leases import claim
from app.pipeline.poller import poll_due
from tests.api.helpers import API, count_calls, make_account, make_rule, world


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


async def test_the_claim_leaves_out_tens_of_thousands_of_cursors_as_one_parameter(client, admin, runtime):
    account = await make_account(client, admin, sources=["tag:coffee"])
    pairs = [(account["id"], f"tag:s{i}") for i in range(35_000)]
    now = utcnow()
    async with transaction(runtime.sessions) as session:
        await repository.ensure_cursors(session, pairs, now=now - timedelta(seconds=60))
        await repository.ensure_cursors(session, pairs[:10], now=now)  # already there: left alone
    async with transaction(runtime.sessions) as session:
        assert await session.scalar(select(func.count()).select_from(Cursor)) == 35_000
        await session.execute(update(Cursor).where(Cursor.source.in_(["tag:s5", "tag:s7"]))
                              .values(next_poll_at=now - timedelta(seconds=600)))
        keys = {source: cursor_id for cursor_id, _account, source in await repository.cursor_keys(session)}
        # 34,998 cursors left out (past SQLite's 32,766 parameters): tag:s7 is no longer wanted either
        unwanted = [cursor_id for source, cursor_id in keys.items() if source not in ("tag:s1", "tag:s5")]
        ids = await claim(session, Cursor, ~among(Cursor.id, unwanted), Cursor.next_poll_at <= now,
                          order=[Cursor.next_poll_at, Cursor.id], limit=3, owner="w", now=now, seconds=60)
        sources = [(await session.get(Cursor, i)).source for i in ids]
    assert sources == ["tag:s5", "tag:s1"]


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


async def test_the_poll_job_reads_every_account_again_only_when_one_changed(client, admin, runtime, monkeypatch):
    from app.accounts import repository as accounts_repo
    from app.pipeline.poller import SourceCache

    reads = count_calls(monkeypatch, accounts_repo, "poll_states")
    cache = SourceCache()
    account = await make_account(client, admin, sources=["tag:coffee"])
    world().publish("alice", "one #coffee")
    assert await poll_due(runtime, cache) == 1
    await _due_in(runtime, -1)
    world().publish("alice", "two #coffee")
    assert await poll_due(runtime, cache) == 1
    assert len(reads) == 1  # nothing changed in the accounts: the second tick did not read them
    response = await client.patch(f"{API}/accounts/{account['id']}", headers=admin, json={"sources": ["tag:tea"]})
    assert response.status_code == 200, response.text
    tea = world().publish("bob", "three #tea")
    await _due_in(runtime, -1)
    assert await poll_due(runtime, cache) == 1  # the new source, seen at once
    assert len(reads) == 2
    assert (await _inbox(runtime))[-1] == tea.id


async def test_a_tick_that_failed_after_reading_the_accounts_reads_them_again(client, admin, runtime, monkeypatch):
    from app.pipeline.poller import SourceCache

    cache = SourceCache()
    await make_account(client, admin, sources=["tag:coffee"])
    world().publish("alice", "one #coffee")
    ensure = repository.ensure_cursors

    async def failing(*args, **kwargs):
        await ensure(*args, **kwargs)
        raise ConnectionError("the database went away")  # the new cursors are rolled back with it

    monkeypatch.setattr(repository, "ensure_cursors", failing)
    with pytest.raises(ConnectionError):
        await poll_due(runtime, cache)
    monkeypatch.setattr(repository, "ensure_cursors", ensure)
    assert await poll_due(runtime, cache) == 1  # the marks did not move: read again all the same
    assert (await _cursor(runtime)).poll_count == 1
