"""RFQ makers (issue 15): makers, rfq_requests (every quote request), rfq_swaps (last look, unique quote id)

Revision ID: a1f3c5e7b9d2
Revises: a1c3e5f7b9d2
Create Date: 2026-12-02 02:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a1f3c5e7b9d2'
down_revision = 'a1c3e5f7b9d2'
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('makers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=48), nullable=False),
    sa.Column('base_url', sa.String(length=255), nullable=False),
    sa.Column('api_key', sa.String(length=255), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('timeout_ms', sa.Integer(), nullable=False),
    sa.Column('tokens', sa.JSON(), nullable=False),
    sa.Column('tokens_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sim_behaviour', sa.JSON(), nullable=True),
    sa.Column('fail_streak', sa.Integer(), nullable=False),
    sa.Column('suspended_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('suspensions', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('rfq_requests',
    sa.Column('id', BIG, nullable=False),
    sa.Column('maker_id', sa.Integer(), nullable=False),
    sa.Column('venue', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('request_id', sa.String(length=40), nullable=False),
    sa.Column('quote_id', sa.String(length=40), nullable=False),
    sa.Column('size_atoms', sa.BigInteger(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('latency_ms', sa.Integer(), nullable=True),
    sa.Column('in_amount_atoms', sa.BigInteger(), nullable=True),
    sa.Column('out_amount_atoms', sa.BigInteger(), nullable=True),
    sa.Column('won', sa.Boolean(), nullable=False),
    sa.Column('improvement_bps', sa.Numeric(precision=12, scale=4), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_rfq_requests_maker_at', 'rfq_requests', ['maker_id', 'at'], unique=False)
    op.create_table('rfq_swaps',
    sa.Column('id', BIG, nullable=False),
    sa.Column('quote_id', sa.String(length=40), nullable=False),
    sa.Column('request_id', sa.String(length=40), nullable=False),
    sa.Column('maker_id', sa.Integer(), nullable=False),
    sa.Column('venue', sa.String(length=64), nullable=False),
    sa.Column('trade_id', sa.BigInteger(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('latency_ms', sa.Integer(), nullable=True),
    sa.Column('in_amount_atoms', sa.BigInteger(), nullable=False),
    sa.Column('out_amount_atoms', sa.BigInteger(), nullable=False),
    sa.Column('rerouted_to', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('quote_id')
    )
    op.create_index('ix_rfq_swaps_maker_id', 'rfq_swaps', ['maker_id'], unique=False)
    op.create_index('ix_rfq_swaps_trade_id', 'rfq_swaps', ['trade_id'], unique=False)


def downgrade():
    op.drop_index('ix_rfq_swaps_trade_id', table_name='rfq_swaps')
    op.drop_index('ix_rfq_swaps_maker_id', table_name='rfq_swaps')
    op.drop_table('rfq_swaps')
    op.drop_index('ix_rfq_requests_maker_at', table_name='rfq_requests')
    op.drop_table('rfq_requests')
    op.drop_table('makers')
