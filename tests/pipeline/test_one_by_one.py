"""fanout.one_by_one, which the poller and undo share: an account's claimed rows in turn; after a
step that used up its whole budget the rest are given back (the server is not answering).

(Belongs in tests/pipeline/ once that folder exists.)
"""

from sqlalchemy import select

from app.db.base import utcnow
from app.db.session import transaction
from app.models import Cursor
from app.pipeline import repository
from app.pipeline.fanout import one_by_one
from app.pipeline.leases import claim
from tests.api.helpers import make_account


async def _claimed(client, admin, runtime, count: int) -> list[int]:
    """`count` cursors of a new account, claimed by this worker."""
    account = await make_account(client, admin)
    now = utcnow()
    async with transaction(runtime.sessions) as session:
        for i in range(count):
            await repository.ensure_cursor(session, account_id=account["id"], source=f"tag:t{i}", now=now)
        return await claim(session, Cursor, Cursor.account_id == account["id"], order=[Cursor.id], limit=count,
                           owner=runtime.worker_id, now=now, seconds=60)


async def _owners(runtime, ids: list[int]) -> dict[int, str | None]:
    async with transaction(runtime.sessions) as session:
        rows = await session.execute(select(Cursor.id, Cursor.lease_owner).where(Cursor.id.in_(ids)))
        return {row.id: row.lease_owner for row in rows}


async def test_after_a_step_that_used_up_its_budget_the_rest_are_given_back(client, admin, runtime):
    ids = await _claimed(client, admin, runtime, 3)
    stepped: list[int] = []

    async def step(cursor_id: int) -> int:
        stepped.append(cursor_id)
        return 2

    assert await one_by_one(runtime, Cursor, ids, step, budget=0.0) == 2
    assert stepped == ids[:1]
    assert await _owners(runtime, ids) == {ids[0]: runtime.worker_id, ids[1]: None, ids[2]: None}


async def test_steps_within_their_budget_all_run_in_order(client, admin, runtime):
    ids = await _claimed(client, admin, runtime, 3)
    stepped: list[int] = []

    async def step(cursor_id: int) -> int:
        stepped.append(cursor_id)
        return 1

    assert await one_by_one(runtime, Cursor, ids, step, budget=60.0) == 3
    assert stepped == ids
    assert set((await _owners(runtime, ids)).values()) == {runtime.worker_id}  # nothing given back by it
