"""reply: the account answers an author it opted out by mention ("stop"), once, where its owner allows

Revision ID: 0018_reply
Revises: 0017_pds_blocks

`actions.kind` takes `reply` (the CHECK constraint rewritten: SQLite rebuilds `actions` in a batch,
as 0008 did); `accounts.stop_reply` (off: the owner chooses to answer) and `accounts.stop_reply_text`
(what is said). As in 0005, the kinds are written out here (no app imports). Downgrading deletes
the reply actions: the older schema cannot hold them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_reply"
down_revision: str | None = "0017_pds_blocks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("repost", "quote", "like")
AFTER = ("repost", "quote", "like", "reply")
DEFAULT_TEXT = "OK, I won't repost your posts any more."


def _within(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _kind_check(values: tuple[str, ...]) -> None:
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_actions_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_actions_kind"), _within("kind", values))


def upgrade() -> None:
    _kind_check(AFTER)
    # plain ADD COLUMN (no batch): on SQLite a batch would rebuild `accounts` without AUTOINCREMENT
    op.add_column("accounts", sa.Column("stop_reply", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("accounts", sa.Column("stop_reply_text", sa.Text(), server_default=DEFAULT_TEXT, nullable=False))


def downgrade() -> None:
    op.execute("DELETE FROM actions WHERE kind = 'reply'")
    _kind_check(BEFORE)
    # SQLite drops columns by rebuilding the table: keep its AUTOINCREMENT (0004_badinput)
    with op.batch_alter_table("accounts", schema=None, table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.drop_column("stop_reply_text")
        batch_op.drop_column("stop_reply")
