"""closed sets: CHECK constraints on accounts.status, rules.action, author_lists.kind,
stream_states.state and api_tokens.role

Revision ID: 0006_closed_sets
Revises: 0005_action_states

As in 0005, the values are written out here, not imported from app code. The API and the
pipeline only ever wrote these values, so the constraints are added without touching data.
SQLite rebuilds each table in a batch; accounts keeps its AUTOINCREMENT (0004_badinput).
"""

from collections.abc import Sequence
from typing import Any

from alembic import op

revision: str = "0006_closed_sets"
down_revision: str | None = "0005_action_states"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _within(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


# table -> (constraint name, condition)
CHECKS = {
    "accounts": ("ck_accounts_status", _within("status", ("active", "needs_attention", "rate_limited"))),
    "rules": ("ck_rules_action", _within("action", ("repost", "quote", "like"))),
    "author_lists": ("ck_author_lists_kind", _within("kind", ("optout", "consent"))),
    "stream_states": ("ck_stream_states_state",
                      _within("state", ("connecting", "connected", "reconnecting", "unavailable", "stopped"))),
    "api_tokens": ("ck_api_tokens_role", _within("role", ("admin", "organizer", "moderator"))),
}


def _batch_options(table: str) -> dict[str, Any]:
    return {"table_kwargs": {"sqlite_autoincrement": True}} if table == "accounts" else {}


def upgrade() -> None:
    for table, (name, condition) in CHECKS.items():
        with op.batch_alter_table(table, schema=None, **_batch_options(table)) as batch_op:
            batch_op.create_check_constraint(op.f(name), condition)


def downgrade() -> None:
    for table, (name, _condition) in CHECKS.items():
        with op.batch_alter_table(table, schema=None, **_batch_options(table)) as batch_op:
            batch_op.drop_constraint(op.f(name), type_="check")
