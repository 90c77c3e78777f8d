"""daily analytics rollups (the hourly rollups' columns per UTC day), so months-long ranges read days, not hours

Backfilled from the hourly rollups (sums of sums, the slippage max of maxes), so an upgraded database shows the
same analytics as before.

Revision ID: a9d3e5f7b2c4
Revises: a1f3c5e7b9d2
Create Date: 2026-12-02 02:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a9d3e5f7b2c4'
down_revision = 'a1f3c5e7b9d2'
branch_labels = None
depends_on = None

TRADE_KEYS = ('status', 'venue', 'pair', 'input_symbol', 'output_symbol', 'size_bucket')
TRADE_SUMS = ('trades', 'volume_usd_atoms', 'savings_usd_atoms', 'otc_volume_usd_atoms', 'cost_bps_sum',
              'cost_bps_n', 'impact_bps_sum', 'impact_bps_n', 'quote_fills', 'slip_centi_bps_sum',
              'slip_centi_bps_n')
LEG_KEYS = ('venue', 'status')
LEG_SUMS = ('legs', 'volume_usd_atoms')


def _backfill(daily, hourly, keys, sums, maxes):
    cols = ', '.join(['day_s', *keys, *sums, *maxes])
    aggs = ', '.join([*keys, *[f'SUM({s})' for s in sums], *[f'MAX({m})' for m in maxes]])
    op.execute(f'INSERT INTO {daily} ({cols}) SELECT (hour_s / 86400) * 86400, {aggs} FROM {hourly} '
               f'GROUP BY (hour_s / 86400) * 86400, {", ".join(keys)}')


def upgrade():
    op.create_table('trade_leg_rollups_daily',
    sa.Column('day_s', sa.BigInteger(), nullable=False),
    sa.Column('venue', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('legs', sa.BigInteger(), nullable=False),
    sa.Column('volume_usd_atoms', sa.Numeric(), nullable=False),
    sa.PrimaryKeyConstraint('day_s', 'venue', 'status')
    )
    op.create_table('trade_rollups_daily',
    sa.Column('day_s', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('venue', sa.String(length=64), nullable=False),
    sa.Column('pair', sa.String(length=24), nullable=False),
    sa.Column('input_symbol', sa.String(length=16), nullable=False),
    sa.Column('output_symbol', sa.String(length=16), nullable=False),
    sa.Column('size_bucket', sa.Integer(), nullable=False),
    sa.Column('trades', sa.BigInteger(), nullable=False),
    sa.Column('volume_usd_atoms', sa.BigInteger(), nullable=False),
    sa.Column('savings_usd_atoms', sa.BigInteger(), nullable=False),
    sa.Column('otc_volume_usd_atoms', sa.Numeric(), nullable=False),
    sa.Column('cost_bps_sum', sa.Numeric(), nullable=True),
    sa.Column('cost_bps_n', sa.BigInteger(), nullable=False),
    sa.Column('impact_bps_sum', sa.Numeric(), nullable=True),
    sa.Column('impact_bps_n', sa.BigInteger(), nullable=False),
    sa.Column('quote_fills', sa.BigInteger(), nullable=False),
    sa.Column('slip_centi_bps_sum', sa.Numeric(), nullable=True),
    sa.Column('slip_centi_bps_n', sa.BigInteger(), nullable=False),
    sa.Column('slip_centi_bps_max', sa.Numeric(), nullable=True),
    sa.PrimaryKeyConstraint('day_s', 'status', 'venue', 'pair', 'input_symbol', 'output_symbol', 'size_bucket')
    )
    _backfill('trade_rollups_daily', 'trade_rollups_hourly', TRADE_KEYS, TRADE_SUMS, ('slip_centi_bps_max',))
    _backfill('trade_leg_rollups_daily', 'trade_leg_rollups_hourly', LEG_KEYS, LEG_SUMS, ())


def downgrade():
    op.drop_table('trade_rollups_daily')
    op.drop_table('trade_leg_rollups_daily')
