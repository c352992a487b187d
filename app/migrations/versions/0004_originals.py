"""originals: when a reposted original was last looked at, and whether it was deleted or edited

Revision ID: 0004_originals
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Timestamps are sa.DateTime(timezone=True), the DDL of app.db.base.UTCDateTime (its UTC
# handling is Python-side only): a migration never imports app code, so it cannot change later.

revision: str = "0004_originals"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("original_checked_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("original_state", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_column("original_state")
        batch_op.drop_column("original_checked_at")
