"""parent_orders and parent_slices: orders worked over time by the job runner (issue 16)

Revision ID: a9c4e2f7b3d1
Revises: b3d5f7a9c1e2
Create Date: 2026-12-02 02:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a9c4e2f7b3d1'
down_revision = 'b3d5f7a9c1e2'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
TS = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        'parent_orders',
        sa.Column('id', ID, primary_key=True),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('idempotency_key', sa.String(length=128), nullable=True, unique=True),
        sa.Column('request_hash', sa.String(length=64), nullable=True),
        sa.Column('input_mint', sa.String(length=64), nullable=False),
        sa.Column('output_mint', sa.String(length=64), nullable=False),
        sa.Column('swap_mode', sa.String(length=8), nullable=False),
        sa.Column('slippage_bps', sa.Integer(), nullable=False),
        sa.Column('amount_atoms', sa.BigInteger(), nullable=False),
        sa.Column('strategy', sa.String(length=12), nullable=False),
        sa.Column('duration_s', sa.Integer(), nullable=False),
        sa.Column('slices', sa.Integer(), nullable=False),
        sa.Column('limit_price', sa.Numeric(38, 18), nullable=True),
        sa.Column('arrival_mid', sa.Numeric(38, 18), nullable=True),
        sa.Column('created_at', TS, nullable=False),
        sa.Column('start_at', TS, nullable=False),
        sa.Column('deadline_at', TS, nullable=False),
        sa.Column('next_due_at', TS, nullable=True),
        sa.Column('lease_until', TS, nullable=True),
        sa.Column('finished_at', TS, nullable=True),
        sa.Column('note', sa.Text(), nullable=False),
    )
    op.create_index('ix_parent_orders_status', 'parent_orders', ['status'])
    op.create_index('ix_parent_orders_user_id', 'parent_orders', ['user_id'])
    op.create_index('ix_parent_orders_created_at', 'parent_orders', ['created_at'])
    op.create_index('ix_parent_orders_status_due', 'parent_orders', ['status', 'next_due_at'])
    op.create_table(
        'parent_slices',
        sa.Column('id', ID, primary_key=True),
        sa.Column('parent_id', ID, sa.ForeignKey('parent_orders.id', ondelete='CASCADE'), nullable=False),
        sa.Column('index', sa.Integer(), nullable=False),
        sa.Column('attempt', sa.Integer(), nullable=False),
        sa.Column('planned_atoms', sa.BigInteger(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('idempotency_key', sa.String(length=128), nullable=False, unique=True),
        sa.Column('trade_id', sa.BigInteger(), nullable=True),
        sa.Column('sent_at', TS, nullable=False),
        sa.Column('done_at', TS, nullable=True),
        sa.Column('note', sa.Text(), nullable=False),
        sa.UniqueConstraint('parent_id', 'index', 'attempt', name='uq_parent_slices_attempt'),
    )
    op.create_index('ix_parent_slices_parent_id', 'parent_slices', ['parent_id'])


def downgrade():
    op.drop_index('ix_parent_slices_parent_id', table_name='parent_slices')
    op.drop_table('parent_slices')
    op.drop_index('ix_parent_orders_status_due', table_name='parent_orders')
    op.drop_index('ix_parent_orders_created_at', table_name='parent_orders')
    op.drop_index('ix_parent_orders_user_id', table_name='parent_orders')
    op.drop_index('ix_parent_orders_status', table_name='parent_orders')
    op.drop_table('parent_orders')
