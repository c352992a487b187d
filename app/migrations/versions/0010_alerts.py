"""alerts: subscriptions (webhook or email, secret Fernet-encrypted), incidents (one per subscription,
kind and subject) and the outbox of deliveries (leased, retried with backoff)

Revision ID: 0010_alerts
Revises: 0009_people

Three new tables; nothing existing changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010_alerts"
down_revision: str | None = "0009_people"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = "kind IN ('account_attention', 'source_failing', 'review_waiting', 'queue_age', 'rate_limited')"
STATUSES = "status IN ('pending', 'sending', 'delivered', 'failed', 'unknown')"


def upgrade() -> None:
    json_type = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
    moment = sa.DateTime(timezone=True)
    op.create_table(
        "alert_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("email_to", sa.String(length=320), nullable=True),
        sa.Column("secret_encrypted", sa.Text(), nullable=False),
        sa.Column("kinds", json_type, nullable=False),
        sa.Column("source_minutes", sa.Integer(), nullable=False),
        sa.Column("review_minutes", sa.Integer(), nullable=False),
        sa.Column("rate_limit_minutes", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=300), nullable=False),
        sa.Column("created_at", moment, nullable=False),
        sa.CheckConstraint("channel IN ('webhook', 'email')", name=op.f("ck_alert_subscriptions_channel")),
        sa.CheckConstraint("format IN ('json', 'slack', 'discord', 'matrix')",
                           name=op.f("ck_alert_subscriptions_format")),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE",
                                name=op.f("fk_alert_subscriptions_account_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_subscriptions")),
    )
    op.create_index(op.f("ix_alert_subscriptions_account_id"), "alert_subscriptions", ["account_id"], unique=False)
    op.create_table(
        "alert_incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("opened_at", moment, nullable=False),
        sa.Column("resolved_at", moment, nullable=True),
        sa.CheckConstraint(KINDS, name=op.f("ck_alert_incidents_kind")),
        sa.ForeignKeyConstraint(["subscription_id"], ["alert_subscriptions.id"],
                                ondelete="CASCADE",
                                name=op.f("fk_alert_incidents_subscription_id_alert_subscriptions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_incidents")),
        sa.UniqueConstraint("subscription_id", "kind", "subject",
                            name=op.f("uq_alert_incidents_subscription_id_kind_subject")),
    )
    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("delivery_id", sa.String(length=36), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("payload", json_type, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", moment, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("delivered_at", moment, nullable=True),
        sa.Column("lease_owner", sa.String(length=255), nullable=True),
        sa.Column("lease_expires_at", moment, nullable=True),
        sa.CheckConstraint(STATUSES, name=op.f("ck_alert_deliveries_status")),
        sa.ForeignKeyConstraint(["incident_id"], ["alert_incidents.id"],
                                name=op.f("fk_alert_deliveries_incident_id_alert_incidents"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["subscription_id"], ["alert_subscriptions.id"],
                                ondelete="CASCADE",
                                name=op.f("fk_alert_deliveries_subscription_id_alert_subscriptions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_deliveries")),
        sa.UniqueConstraint("delivery_id", name=op.f("uq_alert_deliveries_delivery_id")),
    )
    op.create_index("ix_alert_deliveries_due", "alert_deliveries", ["status", "next_attempt_at"], unique=False)
    op.create_index(op.f("ix_alert_deliveries_subscription_id"), "alert_deliveries", ["subscription_id"], unique=False)


def downgrade() -> None:
    op.drop_table("alert_deliveries")
    op.drop_table("alert_incidents")
    op.drop_table("alert_subscriptions")
