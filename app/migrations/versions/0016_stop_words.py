"""stop words: an author who mentions the account with one is put on its opt-out list

Revision ID: 0016_stop_words
Revises: 0015_domain_blocks

`accounts.stop_words_enabled` (on by default, existing accounts included: an author's "stop" is
honoured everywhere), `accounts.stop_words` (the words, JSON; RoundTeam's "Stop RT" by default)
and `accounts.stop_undo_existing` (off: only new posts are held unless the owner says so).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016_stop_words"
down_revision: str | None = "0015_domain_blocks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    # plain ADD COLUMN (no batch): on SQLite a batch would rebuild `accounts` without AUTOINCREMENT
    op.add_column("accounts", sa.Column("stop_words_enabled", sa.Boolean(), server_default=sa.true(), nullable=False))
    op.add_column("accounts", sa.Column("stop_words", JSONType, server_default='["stop", "#nobot", "unsubscribe"]',
                                        nullable=False))
    op.add_column("accounts", sa.Column("stop_undo_existing", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    # SQLite drops columns by rebuilding the table: keep its AUTOINCREMENT (0004_badinput)
    with op.batch_alter_table("accounts", schema=None, table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.drop_column("stop_undo_existing")
        batch_op.drop_column("stop_words")
        batch_op.drop_column("stop_words_enabled")
