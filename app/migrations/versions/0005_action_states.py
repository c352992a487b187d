"""action states: CHECK constraints on actions.status, actions.kind and actions.original_state

Revision ID: 0005_action_states
Revises: 0004_badinput

The closed sets are written out here (not imported from app code: a migration must build the same
schema whatever the code becomes later). Rows written before this revision hold only these values,
so the constraints are added without touching data. SQLite cannot add a constraint in place: the
batch rebuilds the table (ids, indexes and foreign keys kept).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005_action_states"
down_revision: str | None = "0004_badinput"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("queued", "review", "sending", "done", "failed", "rejected", "undone", "skipped")
KINDS = ("repost", "quote", "like")
ORIGINAL_STATES = ("deleted", "edited")


def _within(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


CHECKS = {
    "ck_actions_status": _within("status", STATUSES),
    "ck_actions_kind": _within("kind", KINDS),
    "ck_actions_original_state": f"original_state IS NULL OR {_within('original_state', ORIGINAL_STATES)}",
}


def upgrade() -> None:
    with op.batch_alter_table("actions", schema=None) as batch_op:
        for name, condition in CHECKS.items():
            batch_op.create_check_constraint(op.f(name), condition)


def downgrade() -> None:
    with op.batch_alter_table("actions", schema=None) as batch_op:
        for name in CHECKS:
            batch_op.drop_constraint(op.f(name), type_="check")
