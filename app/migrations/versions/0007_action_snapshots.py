"""action snapshots: actions.snapshot, what the matcher decided on (post, author, rule, terms)

Revision ID: 0007_action_snapshots
Revises: 0006_closed_sets

A nullable JSON column (JSONB on PostgreSQL, as the other JSON columns): rows written before this
revision have no snapshot and keep none. Adding a nullable column needs no batch rebuild on SQLite.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007_action_snapshots"
down_revision: str | None = "0006_closed_sets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    json_type = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
    op.add_column("actions", sa.Column("snapshot", json_type, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_column("snapshot")
