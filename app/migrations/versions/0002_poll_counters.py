"""poll counters

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 02:17:53.420291
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    with op.batch_alter_table('cursors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('poll_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('error_count', sa.Integer(), server_default='0', nullable=False))




def downgrade() -> None:

    with op.batch_alter_table('cursors', schema=None) as batch_op:
        batch_op.drop_column('error_count')
        batch_op.drop_column('poll_count')


