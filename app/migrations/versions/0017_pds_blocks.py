"""PDS blocks: `blocks.kind` may be `pds`, and `author_hosts` caches each Bluesky author's PDS

Revision ID: 0017_pds_blocks
Revises: 0016_stop_words

A PDS block keeps `pds:<host>` in `blocks.author` (no handle or DID is written so), so the unique
constraints hold as they are. `author_hosts`: DID -> the host of their DID document's `#atproto_pds`
service, when it was last looked up, and that lookup's error.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_pds_blocks"
down_revision: str | None = "0016_stop_words"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("blocks", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_blocks_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_blocks_kind"), "kind IN ('author', 'domain', 'pds')")
    op.create_table(
        "author_hosts",
        sa.Column("did", sa.String(length=255), nullable=False),
        sa.Column("pds_host", sa.String(length=255), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("did", name=op.f("pk_author_hosts")),
    )
    op.create_index(op.f("ix_author_hosts_pds_host"), "author_hosts", ["pds_host"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_author_hosts_pds_host"), table_name="author_hosts")
    op.drop_table("author_hosts")
    op.execute("DELETE FROM blocks WHERE kind = 'pds'")
    with op.batch_alter_table("blocks", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_blocks_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_blocks_kind"), "kind IN ('author', 'domain')")
