"""trade_tca: transaction-cost analysis per trade (shortfall and its parts, savings by benchmark, markouts)

Revision ID: a1c3e5f7b9d2
Revises: a9c4e2f7b1d3
Create Date: 2026-12-02 02:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a1c3e5f7b9d2'
down_revision = 'a9c4e2f7b1d3'
branch_labels = None
depends_on = None

BPS = sa.Numeric(12, 4)


def upgrade():
    op.create_table(
        'trade_tca',
        sa.Column('trade_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('venue', sa.String(length=64), nullable=False),
        sa.Column('arrival_mid', sa.Numeric(38, 18), nullable=False),
        sa.Column('impact_bps', BPS, nullable=False),
        sa.Column('fees_bps', BPS, nullable=False),
        sa.Column('spread_bps', BPS, nullable=False),
        sa.Column('timing_bps', BPS, nullable=True),
        sa.Column('shortfall_atoms', sa.BigInteger(), nullable=True),
        sa.Column('shortfall_bps', BPS, nullable=True),
        sa.Column('bench', sa.JSON(), nullable=False),
        sa.Column('savings_jupiter_one_shot_bps', BPS, nullable=True),
        sa.Column('savings_best_single_venue_bps', BPS, nullable=True),
        sa.Column('savings_twap_bps', BPS, nullable=True),
        sa.Column('savings_jupiter_one_shot_usd_atoms', sa.BigInteger(), nullable=True),
        sa.Column('savings_best_single_venue_usd_atoms', sa.BigInteger(), nullable=True),
        sa.Column('savings_twap_usd_atoms', sa.BigInteger(), nullable=True),
        sa.Column('filled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('markout_1s_bps', BPS, nullable=True),
        sa.Column('markout_10s_bps', BPS, nullable=True),
        sa.Column('markout_60s_bps', BPS, nullable=True),
        sa.Column('markout_300s_bps', BPS, nullable=True),
        sa.Column('markouts_due_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['trade_id'], ['trades.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('trade_id'),
    )
    op.create_index('ix_trade_tca_created_at', 'trade_tca', ['created_at'])
    op.create_index('ix_trade_tca_markouts_due_at', 'trade_tca', ['markouts_due_at'])


def downgrade():
    op.drop_index('ix_trade_tca_markouts_due_at', table_name='trade_tca')
    op.drop_index('ix_trade_tca_created_at', table_name='trade_tca')
    op.drop_table('trade_tca')
