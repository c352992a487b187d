"""block lists: subscriptions to shared block lists, and their members at the last refresh

Revision ID: 0014_block_lists
Revises: 0013_timed

`block_list_subscriptions` (an account follows a Bluesky moderation list or another account's
blocks) and `block_list_members` (who was on it at the last refresh that worked). New tables
only: blocks are untouched (list members are unioned into an account's blocks when it decides).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_block_lists"
down_revision: str | None = "0013_timed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "block_list_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=600), nullable=False),
        sa.Column("source_account_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("undo_existing", sa.Boolean(), nullable=False),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_refresh_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("error_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('bluesky_modlist', 'reposter_account')",
                           name=op.f("ck_block_list_subscriptions_kind")),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE",
                                name=op.f("fk_block_list_subscriptions_account_id_accounts")),
        sa.ForeignKeyConstraint(["source_account_id"], ["accounts.id"], ondelete="SET NULL",
                                name=op.f("fk_block_list_subscriptions_source_account_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_block_list_subscriptions")),
        sa.UniqueConstraint("account_id", "source", name=op.f("uq_block_list_subscriptions_account_id_source")),
    )
    with op.batch_alter_table("block_list_subscriptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_block_list_subscriptions_next_refresh_at"), ["next_refresh_at"],
                              unique=False)
    op.create_table(
        "block_list_members",
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=255), nullable=False),
        sa.Column("handle", sa.String(length=255), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["subscription_id"], ["block_list_subscriptions.id"], ondelete="CASCADE",
                                name=op.f("fk_block_list_members_subscription_id_block_list_subscriptions")),
        sa.PrimaryKeyConstraint("subscription_id", "author", name=op.f("pk_block_list_members")),
    )


def downgrade() -> None:
    op.drop_table("block_list_members")
    with op.batch_alter_table("block_list_subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_block_list_subscriptions_next_refresh_at"))
    op.drop_table("block_list_subscriptions")
