"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 01:56:45.162368
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# Timestamps are sa.DateTime(timezone=True), the DDL of app.db.base.UTCDateTime (its UTC
# handling is Python-side only): a migration never imports app code, so it cannot change later.

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('handle', sa.String(length=255), nullable=False),
    sa.Column('display_name', sa.String(length=255), nullable=True),
    sa.Column('platform_user_id', sa.String(length=255), nullable=True),
    sa.Column('credentials_encrypted', sa.Text(), nullable=False),
    sa.Column('config', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('sources', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('status_detail', sa.Text(), nullable=True),
    sa.Column('rate_limited_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('max_per_hour', sa.Integer(), nullable=True),
    sa.Column('max_per_day', sa.Integer(), nullable=True),
    sa.Column('min_interval_seconds', sa.Integer(), nullable=False),
    sa.Column('quiet_hours_start', sa.String(length=5), nullable=True),
    sa.Column('quiet_hours_end', sa.String(length=5), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('max_queue_age_seconds', sa.Integer(), nullable=True),
    sa.Column('last_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('platform', 'handle', name=op.f('uq_accounts_platform_handle'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('account_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    op.create_table('account_filters',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('languages', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('exclude_replies', sa.Boolean(), nullable=False),
    sa.Column('exclude_reposts', sa.Boolean(), nullable=False),
    sa.Column('exclude_quotes', sa.Boolean(), nullable=False),
    sa.Column('min_followers', sa.Integer(), nullable=True),
    sa.Column('min_account_age_days', sa.Integer(), nullable=True),
    sa.Column('max_hashtags', sa.Integer(), nullable=True),
    sa.Column('max_mentions', sa.Integer(), nullable=True),
    sa.Column('max_links', sa.Integer(), nullable=True),
    sa.Column('banned_words', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('duplicate_window_minutes', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_account_filters_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_account_filters'))
    )
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=255), nullable=False),
    sa.Column('actor_token_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('target_type', sa.String(length=32), nullable=False),
    sa.Column('target_id', sa.String(length=255), nullable=False),
    sa.Column('detail', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_audit_events_account_id_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['actor_token_id'], ['api_tokens.id'], name=op.f('fk_audit_events_actor_token_id_api_tokens'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    op.create_index('ix_audit_events_account_at', 'audit_events', ['account_id', 'at'], unique=False)
    op.create_table('author_lists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('author', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_author_lists_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_author_lists')),
    sa.UniqueConstraint('account_id', 'kind', 'author', name=op.f('uq_author_lists_account_id_kind_author'))
    )
    op.create_table('blocks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('author', sa.String(length=255), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('undo_existing', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_blocks_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_blocks')),
    sa.UniqueConstraint('account_id', 'author', name=op.f('uq_blocks_account_id_author'))
    )
    op.create_index('uq_blocks_global_author', 'blocks', ['author'], unique=True, postgresql_where=sa.text('account_id IS NULL'), sqlite_where=sa.text('account_id IS NULL'))
    op.create_table('cursors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=512), nullable=False),
    sa.Column('position', sa.Text(), nullable=True),
    sa.Column('next_poll_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_polled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('lease_owner', sa.String(length=255), nullable=True),
    sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_cursors_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cursors')),
    sa.UniqueConstraint('account_id', 'source', name=op.f('uq_cursors_account_id_source'))
    )
    op.create_index('uq_cursors_global_source', 'cursors', ['source'], unique=True, postgresql_where=sa.text('account_id IS NULL'), sqlite_where=sa.text('account_id IS NULL'))
    op.create_table('relation_cache',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=255), nullable=False),
    sa.Column('members', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('refreshed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_relation_cache_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', 'kind', name=op.f('pk_relation_cache'))
    )
    op.create_table('rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('query', sa.Text(), nullable=False),
    sa.Column('normalized', sa.Text(), nullable=False),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('quote_template', sa.Text(), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('review', sa.Boolean(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_rules_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rules'))
    )
    op.create_index(op.f('ix_rules_account_id'), 'rules', ['account_id'], unique=False)
    op.create_table('seen_posts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('post_id', sa.String(length=255), nullable=False),
    sa.Column('author_id', sa.String(length=255), nullable=False),
    sa.Column('author_handle', sa.String(length=255), nullable=False),
    sa.Column('source_account_id', sa.Integer(), nullable=True),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['source_account_id'], ['accounts.id'], name=op.f('fk_seen_posts_source_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_seen_posts')),
    sa.UniqueConstraint('platform', 'post_id', name=op.f('uq_seen_posts_platform_post_id'))
    )
    op.create_index(op.f('ix_seen_posts_author_handle'), 'seen_posts', ['author_handle'], unique=False)
    op.create_index(op.f('ix_seen_posts_seen_at'), 'seen_posts', ['seen_at'], unique=False)
    op.create_table('actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=True),
    sa.Column('seen_post_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('post_id', sa.String(length=255), nullable=False),
    sa.Column('post_url', sa.Text(), nullable=True),
    sa.Column('author_id', sa.String(length=255), nullable=False),
    sa.Column('author_handle', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('platform_action_id', sa.String(length=512), nullable=True),
    sa.Column('undo_requested_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('undo_attempts', sa.Integer(), nullable=False),
    sa.Column('decided_by', sa.String(length=255), nullable=True),
    sa.Column('lease_owner', sa.String(length=255), nullable=True),
    sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_actions_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rule_id'], ['rules.id'], name=op.f('fk_actions_rule_id_rules'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['seen_post_id'], ['seen_posts.id'], name=op.f('fk_actions_seen_post_id_seen_posts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_actions')),
    sa.UniqueConstraint('account_id', 'post_id', 'kind', name=op.f('uq_actions_account_id_post_id_kind'))
    )
    op.create_index('ix_actions_account_author', 'actions', ['account_id', 'author_handle'], unique=False)
    op.create_index('ix_actions_account_status', 'actions', ['account_id', 'status', 'id'], unique=False)
    op.create_index('ix_actions_due', 'actions', ['status', 'next_attempt_at'], unique=False)



def downgrade() -> None:

    op.drop_index('ix_actions_due', table_name='actions')
    op.drop_index('ix_actions_account_status', table_name='actions')
    op.drop_index('ix_actions_account_author', table_name='actions')
    op.drop_table('actions')
    op.drop_index(op.f('ix_seen_posts_seen_at'), table_name='seen_posts')
    op.drop_index(op.f('ix_seen_posts_author_handle'), table_name='seen_posts')
    op.drop_table('seen_posts')
    op.drop_index(op.f('ix_rules_account_id'), table_name='rules')
    op.drop_table('rules')
    op.drop_table('relation_cache')
    op.drop_index('uq_cursors_global_source', table_name='cursors', postgresql_where=sa.text('account_id IS NULL'), sqlite_where=sa.text('account_id IS NULL'))
    op.drop_table('cursors')
    op.drop_index('uq_blocks_global_author', table_name='blocks', postgresql_where=sa.text('account_id IS NULL'), sqlite_where=sa.text('account_id IS NULL'))
    op.drop_table('blocks')
    op.drop_table('author_lists')
    op.drop_index('ix_audit_events_account_at', table_name='audit_events')
    op.drop_table('audit_events')
    op.drop_table('account_filters')
    op.drop_table('api_tokens')
    op.drop_table('accounts')

