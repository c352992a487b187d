"""labels: per-account filters for content warnings, sensitive posts and labels

Revision ID: 0011_labels
Revises: 0010_alerts

Four columns on account_filters, each with a server default, so existing rows read as before
("allow", no labels). The allowed modes are written out here, not imported from app code.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011_labels"
down_revision: str | None = "0010_alerts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSONType = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
MODES = "IN ('allow', 'skip', 'review')"


def upgrade() -> None:
    with op.batch_alter_table("account_filters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("content_warnings", sa.String(length=8), server_default="allow", nullable=False))
        batch_op.add_column(sa.Column("sensitive", sa.String(length=8), server_default="allow", nullable=False))
        batch_op.add_column(sa.Column("labels_skip", JSONType, server_default="[]", nullable=False))
        batch_op.add_column(sa.Column("labels_review", JSONType, server_default="[]", nullable=False))
        batch_op.create_check_constraint(op.f("ck_account_filters_content_warnings"), f"content_warnings {MODES}")
        batch_op.create_check_constraint(op.f("ck_account_filters_sensitive"), f"sensitive {MODES}")


def downgrade() -> None:
    with op.batch_alter_table("account_filters", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_account_filters_sensitive"), type_="check")
        batch_op.drop_constraint(op.f("ck_account_filters_content_warnings"), type_="check")
        batch_op.drop_column("labels_review")
        batch_op.drop_column("labels_skip")
        batch_op.drop_column("sensitive")
        batch_op.drop_column("content_warnings")
