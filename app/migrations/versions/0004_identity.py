"""identity: blocks, author lists and rules keep the author's stable id, a display handle and a pending state

Rows from before keep their typed name as `author` and are marked pending: they match by that
name, as before, until the pipeline resolves them to the platform's id.

Revision ID: 0004_identity
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# Timestamps are sa.DateTime(timezone=True), the DDL of app.db.base.UTCDateTime (its UTC
# handling is Python-side only): a migration never imports app code, so it cannot change later.

revision: str = "0004_identity"
down_revision: str | None = "0004_sight"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
Timestamp = sa.DateTime(timezone=True)


def _author_columns(batch_op, *, platform: bool) -> None:
    batch_op.add_column(sa.Column("handle", sa.String(255), server_default="", nullable=False))
    batch_op.add_column(sa.Column("pending", sa.Boolean(), server_default=sa.false(), nullable=False))
    if platform:
        batch_op.add_column(sa.Column("platform", sa.String(32), nullable=True))
    batch_op.add_column(sa.Column("checked_at", Timestamp, nullable=True))


def upgrade() -> None:
    for table in ("blocks", "author_lists"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            _author_columns(batch_op, platform=table == "blocks")
        op.execute(sa.text(f"UPDATE {table} SET handle = author, pending = :yes").bindparams(yes=True))
    with op.batch_alter_table("rules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("authors", JSONType, server_default="{}", nullable=False))
        batch_op.add_column(sa.Column("authors_pending", sa.Boolean(), server_default=sa.false(), nullable=False))
    # rules that may name people: the identity job resolves the names they hold
    op.execute(sa.text("UPDATE rules SET authors_pending = :yes WHERE scope LIKE 'users:%' OR query LIKE '%from:%' "
                       "OR query LIKE '%to:%' OR query LIKE '%@%'").bindparams(yes=True))


def downgrade() -> None:
    with op.batch_alter_table("rules", schema=None) as batch_op:
        batch_op.drop_column("authors_pending")
        batch_op.drop_column("authors")
    for table in ("blocks", "author_lists"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in ("checked_at", "platform", "pending", "handle"):
                if column != "platform" or table == "blocks":
                    batch_op.drop_column(column)
