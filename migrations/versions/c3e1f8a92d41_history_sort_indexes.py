"""trades: (notional_usd_atoms, id) and (savings_usd_atoms, id) indexes for the history sorted by size or savings

Keyset pages of the history sorted by size or savings are a range scan of these indexes (issue 8: at a million
trades the first page otherwise sorts every trade, about 0.8 s on PostgreSQL).

Revision ID: c3e1f8a92d41
Revises: a657f702dc87
Create Date: 2026-11-26 02:55:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c3e1f8a92d41'
down_revision = 'a657f702dc87'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('trades', schema=None) as batch_op:
        batch_op.create_index('ix_trades_notional_id', ['notional_usd_atoms', 'id'], unique=False)
        batch_op.create_index('ix_trades_savings_id', ['savings_usd_atoms', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('trades', schema=None) as batch_op:
        batch_op.drop_index('ix_trades_savings_id')
        batch_op.drop_index('ix_trades_notional_id')
