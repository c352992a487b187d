"""timed reposts: a rule's timing and promotion window, an action's scheduled time and undo time

Revision ID: 0013_timed
Revises: 0012_poll_schedule

`rules.timing` (JSON, null: at once) and `rules.undo_after_hours` (null: never undone);
`actions.scheduled_at` (the earliest send the rule's timing set), `actions.spread_start` (the
spread window the action is in) and `actions.undo_at` (when its promotion window ends), with
`ix_actions_undo_at` for the undo job and `ix_actions_rule_spread` for a rule's latest window.
All nullable: existing rows go on as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013_timed"
down_revision: str | None = "0012_poll_schedule"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    json_type = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
    moment = sa.DateTime(timezone=True)
    with op.batch_alter_table("rules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timing", json_type, nullable=True))
        batch_op.add_column(sa.Column("undo_after_hours", sa.Integer(), nullable=True))
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scheduled_at", moment, nullable=True))
        batch_op.add_column(sa.Column("spread_start", moment, nullable=True))
        batch_op.add_column(sa.Column("undo_at", moment, nullable=True))
        batch_op.create_index("ix_actions_undo_at", ["undo_at"], unique=False)
        batch_op.create_index("ix_actions_rule_spread", ["rule_id", "spread_start"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_index("ix_actions_rule_spread")
        batch_op.drop_index("ix_actions_undo_at")
        batch_op.drop_column("undo_at")
        batch_op.drop_column("spread_start")
        batch_op.drop_column("scheduled_at")
    with op.batch_alter_table("rules", schema=None) as batch_op:
        batch_op.drop_column("undo_after_hours")
        batch_op.drop_column("timing")
