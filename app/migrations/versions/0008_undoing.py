"""undoing: actions.status `undoing` (an undo asked for, not yet confirmed) and actions.undo_requested_by

Revision ID: 0008_undoing
Revises: 0007_action_snapshots

Before this revision an undo in hand was a `done` row with `undo_requested_at` set, and the undo
request overwrote `decided_by` with who asked. Such rows become `undoing`; every row with
`undo_requested_at` (in hand or undone) gets `undo_requested_by` from `decided_by`, which named
the asker. Who had approved those rows before was overwritten then and cannot be recovered: their
`decided_by` stays as it is. As in 0005, the statuses are written out here (no app imports);
SQLite rebuilds the table in a batch to change the CHECK constraint.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_undoing"
down_revision: str | None = "0007_action_snapshots"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("queued", "review", "sending", "done", "failed", "rejected", "undone", "skipped")
AFTER = ("queued", "review", "sending", "done", "undoing", "failed", "rejected", "undone", "skipped")


def _within(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _status_check(values: tuple[str, ...]) -> None:
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_actions_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_actions_status"), _within("status", values))


def upgrade() -> None:
    op.add_column("actions", sa.Column("undo_requested_by", sa.String(length=255), nullable=True))
    _status_check(AFTER)
    op.execute("UPDATE actions SET undo_requested_by = decided_by WHERE undo_requested_at IS NOT NULL")
    op.execute("UPDATE actions SET status = 'undoing' WHERE status = 'done' AND undo_requested_at IS NOT NULL")


def downgrade() -> None:
    # The old shape: an undo in hand is `done` with undo_requested_at, and decided_by names the asker.
    op.execute("UPDATE actions SET status = 'done' WHERE status = 'undoing'")
    op.execute("UPDATE actions SET decided_by = undo_requested_by WHERE undo_requested_by IS NOT NULL")
    _status_check(BEFORE)
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_column("undo_requested_by")
