"""The action state machine: every allowed move works, every other is an error, and the database
refuses a status outside the closed set (CHECK constraints, migrations 0005 and 0008)."""

from itertools import product

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.actions import states
from app.actions.states import MOVES, WAITING, IllegalMove, can_move, move
from app.engine.decide import Verdict
from app.models import Action, ActionStatus
from tests.api.helpers import API, actions, ingest, make_account, make_rule, world

ALLOWED = [(source, to) for source, targets in MOVES.items() for to in sorted(targets)]
ILLEGAL = [(source, to) for source, to in product(ActionStatus, ActionStatus) if (source, to) not in ALLOWED]


def _action(status: ActionStatus) -> Action:
    return Action(id=7, status=status, kind="repost", attempts=1)


@pytest.mark.parametrize(("source", "to"), ALLOWED, ids=[f"{s}->{t}" for s, t in ALLOWED])
def test_every_allowed_move_changes_the_status_and_sets_the_fields(source, to):
    action = _action(source)
    assert move(action, to, reason="why", attempts=2) is action
    assert (action.status, action.reason, action.attempts) == (to, "why", 2)


@pytest.mark.parametrize(("source", "to"), ILLEGAL, ids=[f"{s}->{t}" for s, t in ILLEGAL])
def test_every_other_move_is_an_error_and_changes_nothing(source, to):
    action = _action(source)
    with pytest.raises(IllegalMove) as raised:
        move(action, to, reason="why")
    assert raised.value.status_code == 409 and f"action 7 is {source}" in raised.value.detail
    assert (action.status, action.reason) == (source, None)


def test_the_table_has_no_move_to_itself_and_the_final_statuses_go_nowhere():
    assert not any(can_move(s, s) for s in ActionStatus)
    final = set(ActionStatus) - set(MOVES)
    assert final == {ActionStatus.rejected, ActionStatus.undone, ActionStatus.skipped}
    assert all(not can_move(s, t) for s in final for t in ActionStatus)


def test_only_from_narrows_a_move_and_why_says_so():
    action = _action(ActionStatus.sending)  # sending -> queued is allowed, but approving needs review
    with pytest.raises(IllegalMove, match="not waiting for review"):
        move(action, ActionStatus.queued, only_from=[ActionStatus.review], why="not waiting for review")
    assert action.status == ActionStatus.sending


def test_a_move_refuses_a_field_the_action_does_not_have():
    action = _action(ActionStatus.queued)
    with pytest.raises(AttributeError):
        move(action, ActionStatus.sending, atempts=2)
    assert action.status == ActionStatus.queued


def test_bulk_sources_come_from_the_table_and_never_touch_a_send_in_flight():
    assert states.sources(ActionStatus.skipped, among=WAITING) == sorted(WAITING)
    assert ActionStatus.sending in states.sources(ActionStatus.skipped)  # a send finds the post gone
    assert states.sources(ActionStatus.rejected) == sorted(WAITING)
    assert states.sources(ActionStatus.undone) == [ActionStatus.undoing]
    assert states.sources(ActionStatus.undoing) == [ActionStatus.done]


def test_an_action_starts_only_as_the_matcher_decides():
    assert {states.first(s) for s in ("queued", "review", "skipped")} == states.FIRST
    for status in ("ignore", "sending", "done"):
        with pytest.raises(ValueError):
            states.first(status)


@pytest.fixture
async def done_action(client, admin, pipeline):
    world().add_author("alice", followers_count=100)
    account = await make_account(client, admin)
    await make_rule(client, admin, account["id"], "#coffee")
    await ingest(client, admin, [world().publish("alice", "hi #coffee")])
    await pipeline.tick(poll=False)
    [done] = await actions(client, admin, account["id"])
    assert done["status"] == "done"
    return done


@pytest.mark.parametrize("request_", ["approve", "reject"])
async def test_an_illegal_request_on_the_api_is_a_409_and_changes_nothing(client, admin, done_action, request_):
    response = await client.post(f"{API}/actions/{done_action['id']}/{request_}", headers=admin)
    assert response.status_code == 409 and response.json()["error"] == "conflict"
    assert "is done" in response.json()["detail"]
    after = (await client.get(f"{API}/actions/{done_action['id']}", headers=admin)).json()
    assert after["status"] == "done" and after["decided_by"] == done_action["decided_by"]


async def test_the_database_takes_every_status_the_enum_has(runtime, done_action):
    async with runtime.engine.begin() as conn:
        for status in ActionStatus:
            await conn.execute(text("UPDATE actions SET status = :value WHERE id = :id"),
                               {"value": status.value, "id": done_action["id"]})


def test_an_undo_goes_through_undoing_and_may_fall_back_to_done():
    assert MOVES[ActionStatus.done] == {ActionStatus.undoing}
    assert MOVES[ActionStatus.undoing] == {ActionStatus.undone, ActionStatus.done}
    assert not can_move(ActionStatus.done, ActionStatus.undone)  # only the undo job, through undoing


@pytest.mark.parametrize(("column", "value"), [("status", "bogus"), ("kind", "retweet"), ("original_state", "gone")])
async def test_the_database_refuses_a_value_outside_the_closed_set(runtime, done_action, column, value):
    async with runtime.engine.connect() as conn:
        with pytest.raises(IntegrityError) as raised:
            await conn.execute(text(f"UPDATE actions SET {column} = :value WHERE id = :id"),
                               {"value": value, "id": done_action["id"]})
        await conn.rollback()
    assert f"ck_actions_{column}" in str(raised.value)


def test_the_engine_decides_exactly_the_statuses_an_action_may_start_in():
    assert {v.value for v in Verdict if v is not Verdict.ignore} == {s.value for s in states.FIRST}
