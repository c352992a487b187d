"""failures in sight: each source's last success, last error (kind, status, time) and failures in a
row; each account's stream state

Revision ID: 0004_sight
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Timestamps are sa.DateTime(timezone=True), the DDL of app.db.base.UTCDateTime (its UTC
# handling is Python-side only): a migration never imports app code, so it cannot change later.

revision: str = "0004_sight"
down_revision: str | None = "0004_originals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cursors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("error_kind", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("error_status", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("error_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("consecutive_failures", sa.Integer(), server_default="0", nullable=False))
    # Until now last_polled_at was written only by a successful poll.
    op.execute("UPDATE cursors SET last_success_at = last_polled_at")
    op.create_table(
        "stream_states",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_post_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("error_kind", sa.String(length=32), nullable=True),
        sa.Column("error_status", sa.Integer(), nullable=True),
        sa.Column("error_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("worker_id", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_stream_states_account_id_accounts"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_stream_states")),
    )


def downgrade() -> None:
    op.drop_table("stream_states")
    with op.batch_alter_table("cursors", schema=None) as batch_op:
        batch_op.drop_column("consecutive_failures")
        batch_op.drop_column("error_at")
        batch_op.drop_column("error_status")
        batch_op.drop_column("error_kind")
        batch_op.drop_column("last_success_at")
