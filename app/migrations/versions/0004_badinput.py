"""account ids never reused: SQLite AUTOINCREMENT on accounts; tokens forget deleted accounts

Revision ID: 0004_badinput
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004_badinput"
down_revision: str | None = "0004_identity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # AUTOINCREMENT cannot be added in place: the table is rebuilt (ids kept; the new
        # sequence starts after the largest id present). Alembic's engine has foreign keys off.
        with op.batch_alter_table("accounts", recreate="always", table_kwargs={"sqlite_autoincrement": True}):
            pass
    _forget_deleted_accounts()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("accounts", recreate="always", table_kwargs={"sqlite_autoincrement": False}):
            pass


def _forget_deleted_accounts() -> None:
    """Tokens made before this revision may list accounts deleted since, or (SQLite) an id given
    again to a later account. A token's list is fixed when it is made, from accounts that exist
    then: an id that is gone, or whose account is younger than the token, is dropped."""
    bind = op.get_bind()
    tokens = sa.table("api_tokens", sa.column("id", sa.Integer), sa.column("account_ids", JSONType),
                      sa.column("created_at", sa.DateTime))
    accounts = sa.table("accounts", sa.column("id", sa.Integer), sa.column("created_at", sa.DateTime))
    born = dict(bind.execute(sa.select(accounts.c.id, accounts.c.created_at)).all())
    for token_id, ids, made in bind.execute(sa.select(tokens.c.id, tokens.c.account_ids, tokens.c.created_at)).all():
        kept = [i for i in ids or [] if i in born and (born[i] is None or made is None or born[i] <= made)]
        if kept != list(ids or []):
            bind.execute(tokens.update().where(tokens.c.id == token_id).values(account_ids=kept))
