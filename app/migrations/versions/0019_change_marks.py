"""change_marks: counters the database moves on every write to `rules`, and to what the poll job reads of `accounts`

Revision ID: 0019_change_marks
Revises: 0018_reply

Every worker that matches asked before each batch whether the rules changed by reading a fingerprint
of the whole table (count, newest updated_at, sum of ids): 13-20 ms a batch at 100,000 rules, the
database's busiest statement in bench/scale.py. `change_marks` holds one row per watched table;
triggers move `rules`'s on every INSERT, UPDATE, DELETE (cascades from a deleted account included)
and, on PostgreSQL, TRUNCATE, so a worker reads one row and looks further only when it moved.
PostgreSQL: one statement-level trigger; SQLite (row triggers only): one per kind of write.

`accounts`'s mark moves on INSERT, DELETE and an UPDATE of what the poll job reads of every account
every tick (sources, conditions, enabled, platform, config, stop_words_enabled): the job rereads
its 10,000 rows (~80-170 ms of a worker's CPU a tick) only when it moved. Sends, which stamp
`last_sent_at` on the account, leave it alone.

A later migration that rebuilds `rules` or `accounts` on SQLite (`batch_alter_table`) drops its triggers and must
create them again (`create_triggers`); tests/rules/test_change_mark.py fails without them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_change_marks"
down_revision: str | None = "0018_reply"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What the poll job reads of each account (accounts.poll_states): an UPDATE of these moves the mark.
POLLED = "sources, conditions, enabled, platform, config, stop_words_enabled"
# (table, the events that move its mark: PostgreSQL's spelling, and SQLite's one trigger each)
WATCHED = {
    "rules": ("INSERT OR UPDATE OR DELETE OR TRUNCATE", ("INSERT", "UPDATE", "DELETE")),
    "accounts": (f"INSERT OR DELETE OR TRUNCATE OR UPDATE OF {POLLED}", ("INSERT", "DELETE", f"UPDATE OF {POLLED}")),
}


def _bump(table: str) -> str:
    return f"UPDATE change_marks SET version = version + 1 WHERE name = '{table}'"


def create_triggers(table: str) -> None:
    """The triggers that move `table`'s mark (a migration rebuilding the table on SQLite calls this again)."""
    postgres_events, sqlite_events = WATCHED[table]
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE FUNCTION reposter_{table}_changed() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   f"BEGIN {_bump(table)}; RETURN NULL; END $$")
        op.execute(f"CREATE TRIGGER {table}_changed AFTER {postgres_events} ON {table} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION reposter_{table}_changed()")
        return
    for event in sqlite_events:
        name = event.split()[0].lower()
        op.execute(f"CREATE TRIGGER {table}_changed_{name} AFTER {event} ON {table} BEGIN {_bump(table)}; END")


def upgrade() -> None:
    op.create_table(
        "change_marks",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_change_marks")),
    )
    for table in WATCHED:
        op.execute(f"INSERT INTO change_marks (name, version) VALUES ('{table}', 0)")
        create_triggers(table)


def downgrade() -> None:
    for table, (_postgres_events, sqlite_events) in WATCHED.items():
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER {table}_changed ON {table}")
            op.execute(f"DROP FUNCTION reposter_{table}_changed()")
        else:
            for event in sqlite_events:
                op.execute(f"DROP TRIGGER {table}_changed_{event.split()[0].lower()}")
    op.drop_table("change_marks")
