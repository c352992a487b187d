"""domain blocks: `blocks.kind`, author (as before) or domain (every author of an instance or handle domain)

Revision ID: 0015_domain_blocks
Revises: 0014_block_lists

Existing rows are author blocks (server default `author`). A domain block keeps `*.<domain>` in
`author`, which no handle or id can be, so the unique constraints on (account_id, author) hold as they are.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_domain_blocks"
down_revision: str | None = "0014_block_lists"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("blocks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=16), server_default="author", nullable=False))
        batch_op.create_check_constraint(op.f("ck_blocks_kind"), "kind IN ('author', 'domain')")


def downgrade() -> None:
    op.execute("DELETE FROM blocks WHERE kind <> 'author'")
    with op.batch_alter_table("blocks", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_blocks_kind"), type_="check")
        batch_op.drop_column("kind")
