"""The matcher: it reads the inbox past its cursor, and a post is matched once, by one worker."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from app.db.session import transaction
from app.models import Action
from app.pipeline import inbox
from app.pipeline.matcher import Matcher, matched_through
from tests.api.helpers import make_account, make_rule, world


async def _setup(client, admin, runtime, texts: list[str]) -> list[str]:
    """An account with a rule on #coffee, then posts in the inbox (rules apply to later posts)."""
    account = await make_account(client, admin)
    await make_rule(client, admin, account["id"], "#coffee")
    posts = [world().publish("alice", text) for text in texts]
    async with transaction(runtime.sessions) as session:
        await inbox.store(session, posts)
    return [p.id for p in posts]


async def _batch(runtime, matcher: Matcher, limit: int = 500) -> int:
    async with transaction(runtime.sessions) as session:
        return await matcher.run_batch(session, runtime, limit=limit)


async def _actions(runtime) -> list[tuple[str, str]]:
    async with runtime.sessions() as session:
        return [(p, s) for p, s in await session.execute(select(Action.post_id, Action.status).order_by(Action.id))]


async def test_the_cursor_advances_batch_by_batch_and_a_read_post_is_not_read_again(client, admin, runtime):
    ids = await _setup(client, admin, runtime, ["one #coffee", "tea", "two #coffee"])
    matcher = Matcher()
    assert await _batch(runtime, matcher, limit=2) == 2
    async with runtime.sessions() as session:
        first = await matched_through(session)
    assert await _batch(runtime, matcher, limit=2) == 1
    assert await _batch(runtime, matcher) == 0
    async with runtime.sessions() as session:
        assert await matched_through(session) == first + 1
    assert await _actions(runtime) == [(ids[0], "queued"), (ids[2], "queued")]  # no match, no trace


async def test_a_second_worker_finds_nothing_left_to_match(client, admin, runtime):
    ids = await _setup(client, admin, runtime, ["a #coffee", "b #coffee"])
    assert await _batch(runtime, Matcher()) == 2
    assert await _batch(runtime, Matcher()) == 0
    assert [post_id for post_id, _ in await _actions(runtime)] == ids


async def test_two_workers_at_once_read_each_post_once(client, admin, runtime, db_url):
    """On PostgreSQL the workers' batches really overlap: the cursor row is taken with SKIP LOCKED,
    so a worker finding it held reads nothing. SQLite runs one worker at a time by design
    (docs/decisions.md): there the workers take turns and the later ones find nothing left."""
    ids = await _setup(client, admin, runtime, [f"n{i} #coffee" for i in range(40)])
    workers, counts = [Matcher(), Matcher()], []
    while not counts or sum(counts[-2:]) > 0:
        if db_url.startswith("postgresql"):
            counts += await asyncio.gather(*[_batch(runtime, w, limit=10) for w in workers])
        else:
            counts += [await _batch(runtime, w, limit=10) for w in workers]
    assert sum(counts) == 40  # every post read by exactly one of them
    assert sorted(p for p, _ in await _actions(runtime)) == sorted(ids)


async def test_a_post_delivered_again_after_matching_makes_no_second_action(client, admin, runtime):
    ids = await _setup(client, admin, runtime, ["x #coffee"])
    matcher = Matcher()
    await _batch(runtime, matcher)
    async with transaction(runtime.sessions) as session:
        assert await inbox.store(session, [world().find(ids[0])]) == 0
    assert await _batch(runtime, matcher) == 0
    assert await _actions(runtime) == [(ids[0], "queued")]
