"""trades: arrival_mid, and (cost_bps, id) and (user_id, created_at) indexes for the history (issue 18 item 12)

The history sorted by cost pages by keyset over (cost_bps, id), and "my trades" / one trader's trades newest first
is a range scan of (user_id, created_at) instead of every trade of that user sorted. arrival_mid is the reference
mid (output tokens per input token) the trade was decided against; trades recorded before it stay NULL.

Revision ID: e5a9c1d7b3f2
Revises: e8a3c5d7f210
Create Date: 2026-11-27 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5a9c1d7b3f2'
down_revision = 'e8a3c5d7f210'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('trades', schema=None) as batch_op:
        batch_op.add_column(sa.Column('arrival_mid', sa.Numeric(precision=38, scale=18), nullable=True))
        batch_op.create_index('ix_trades_cost_id', ['cost_bps', 'id'], unique=False)
        batch_op.create_index('ix_trades_user_created', ['user_id', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('trades', schema=None) as batch_op:
        batch_op.drop_index('ix_trades_user_created')
        batch_op.drop_index('ix_trades_cost_id')
        batch_op.drop_column('arrival_mid')
