"""poll schedule: each source's own poll interval, and an index on its due time

Revision ID: 0012_poll_schedule
Revises: 0011_labels

`cursors.poll_interval_seconds` (nullable: null reads as the base interval, so existing rows go on
as before) and `ix_cursors_next_poll_at`, for the poll job's claim of the sources due.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_poll_schedule"
down_revision: str | None = "0011_labels"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cursors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("poll_interval_seconds", sa.Float(), nullable=True))
        batch_op.create_index("ix_cursors_next_poll_at", ["next_poll_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cursors", schema=None) as batch_op:
        batch_op.drop_index("ix_cursors_next_poll_at")
        batch_op.drop_column("poll_interval_seconds")
