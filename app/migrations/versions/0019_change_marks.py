"""change_marks: a counter the database moves on every write to `rules`

Revision ID: 0019_change_marks
Revises: 0018_reply

Every worker that matches asked before each batch whether the rules changed by reading a fingerprint
of the whole table (count, newest updated_at, sum of ids): 13-20 ms a batch at 100,000 rules, the
database's busiest statement in bench/scale.py. `change_marks` holds one row per watched table;
triggers move `rules`'s on every INSERT, UPDATE, DELETE (cascades from a deleted account included)
and, on PostgreSQL, TRUNCATE, so a worker reads one row and looks further only when it moved.
PostgreSQL: one statement-level trigger; SQLite (row triggers only): one per kind of write.

A later migration that rebuilds `rules` on SQLite (`batch_alter_table`) drops its triggers and must
create them again (`create_rules_triggers`); tests/rules/test_change_mark.py fails without them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_change_marks"
down_revision: str | None = "0018_reply"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BUMP = "UPDATE change_marks SET version = version + 1 WHERE name = 'rules'"


def create_rules_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE FUNCTION reposter_rules_changed() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   f"BEGIN {BUMP}; RETURN NULL; END $$")
        op.execute("CREATE TRIGGER rules_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON rules "
                   "FOR EACH STATEMENT EXECUTE FUNCTION reposter_rules_changed()")
        return
    for event in ("insert", "update", "delete"):
        op.execute(f"CREATE TRIGGER rules_changed_{event} AFTER {event.upper()} ON rules BEGIN {BUMP}; END")


def upgrade() -> None:
    op.create_table(
        "change_marks",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_change_marks")),
    )
    op.execute("INSERT INTO change_marks (name, version) VALUES ('rules', 0)")
    create_rules_triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER rules_changed ON rules")
        op.execute("DROP FUNCTION reposter_rules_changed()")
    else:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER rules_changed_{event}")
    op.drop_table("change_marks")
