"""An action's life: the moves its status may make, and the one function every change goes through.

    review  --approve-->  queued  --claim-->  sending  --the platform acted-->  done
                            ^                   |
                            +---told to wait----+--cannot tell / error-->  failed  --claim again--> sending

    done  --undo asked-->  undoing  --removed, or already gone-->  undone
      ^                       |
      +------gave up----------+

Any waiting action (queued, review, failed) may be rejected by a person or skipped by a block,
a filter or its age; a send finds a post gone (skipped). `rejected`, `undone` and `skipped` are
final. `done` can only be undone: asking (a moderator, a block or opt-out with undo, an original
edited out of its rule) makes it `undoing` at once, with who asked in `undo_requested_by`
(`decided_by` keeps who approved or rejected it). The undo job (app/pipeline/undo.py) then removes
it on the platform: confirmed, or the platform says it is already gone -> `undone`. A failed undo
follows the one failure policy of platform calls (app/pipeline/outcome.py `backoff`): it stays
`undoing`, told to wait or retried with backoff (`undo_attempts`), and when the error is final or
the tries are used up it goes back to `done` with the error (`undo failed: ...`) and the request
cleared, so that it can be asked for again. An `undoing` row whose worker died is taken up again
when its lease expires, and a try after one that may have reached the platform is safe: the
adapters' undo removes what of ours it finds there, and finding nothing (PostGone) counts as undone.
The database holds the same closed sets as CHECK constraints (migrations 0005 and 0008); bulk
UPDATEs take their from-states from this table (`sources`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.errors import Conflict
from app.models.action import Action, ActionStatus

A = ActionStatus

# from -> the statuses it may move to. Statuses not listed as a key are final.
MOVES: dict[ActionStatus, frozenset[ActionStatus]] = {
    A.review: frozenset({A.queued, A.rejected, A.skipped}),
    A.queued: frozenset({A.sending, A.rejected, A.skipped}),
    A.failed: frozenset({A.sending, A.rejected, A.skipped}),
    # the outcome of a send: acted, told to wait (back to the queue), failed, or the post is gone
    A.sending: frozenset({A.done, A.queued, A.failed, A.skipped}),
    # an undo asked for, then its outcome: removed on the platform, or given up (still there)
    A.done: frozenset({A.undoing}),
    A.undoing: frozenset({A.undone, A.done}),
}

# What the matcher may create an action as.
FIRST = frozenset({A.queued, A.review, A.skipped})

# Not in flight and not settled: a person, a block or an opt-out may still stop these.
WAITING = frozenset({A.queued, A.review, A.failed})


class IllegalMove(Conflict):
    """An action was asked to make a move its status does not allow (409 on the API)."""

    def __init__(self, action: Action, to: ActionStatus, why: str | None = None):
        super().__init__(f"action {action.id} is {action.status}; {why or f'it cannot become {to}'}")
        self.action_id, self.source, self.target = action.id, action.status, to


def can_move(source: str, to: ActionStatus) -> bool:
    """Whether an action in `source` may become `to`."""
    return to in MOVES.get(ActionStatus(source), frozenset())


def sources(to: ActionStatus, *, among: Iterable[ActionStatus] = ActionStatus) -> list[ActionStatus]:
    """The statuses (of `among`) that may become `to`: the where clause of a bulk UPDATE."""
    return sorted(s for s in among if can_move(s, to))


def first(status: str) -> ActionStatus:
    """The status a new action starts in, checked (ValueError for one it cannot start in)."""
    if status not in FIRST:
        raise ValueError(f"an action cannot start as {status!r}")
    return ActionStatus(status)


def move(action: Action, to: ActionStatus, *, only_from: Iterable[ActionStatus] | None = None,
         why: str | None = None, **fields: Any) -> Action:
    """Change the action's status to `to` and set `fields`; IllegalMove if the table (narrowed to
    `only_from`, when given) does not allow it from the current status. Nothing changes then."""
    allowed = can_move(action.status, to) and (only_from is None or action.status in set(only_from))
    if not allowed:
        raise IllegalMove(action, to, why)
    for name in fields:
        if not hasattr(Action, name) or name == "status":
            raise AttributeError(f"Action has no column {name!r} to set with a move")
    action.status = to
    for name, value in fields.items():
        setattr(action, name, value)
    return action
