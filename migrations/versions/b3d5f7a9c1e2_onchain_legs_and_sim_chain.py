"""on-chain Jupiter legs: trade_legs.tx_signature, slot, last_valid_block_height; the simulated chain's transactions and balances

Revision ID: b3d5f7a9c1e2
Revises: a9d3e5f7b2c4
Create Date: 2026-12-02 02:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b3d5f7a9c1e2'
down_revision = 'a9d3e5f7b2c4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('trade_legs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tx_signature', sa.String(length=88), nullable=True))
        batch_op.add_column(sa.Column('slot', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('last_valid_block_height', sa.BigInteger(), nullable=True))
        batch_op.create_index(batch_op.f('ix_trade_legs_tx_signature'), ['tx_signature'], unique=False)
    op.create_table(
        'sim_chain_transactions',
        sa.Column('signature', sa.String(length=88), nullable=False),
        sa.Column('owner', sa.String(length=44), nullable=False),
        sa.Column('slot', sa.BigInteger(), nullable=False),
        sa.Column('tx', sa.Text(), nullable=False),
        sa.Column('err', sa.JSON(), nullable=True),
        sa.Column('pre', sa.JSON(), nullable=False),
        sa.Column('post', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('signature'),
    )
    with op.batch_alter_table('sim_chain_transactions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sim_chain_transactions_owner'), ['owner'], unique=False)
    op.create_table(
        'sim_chain_balances',
        sa.Column('owner', sa.String(length=44), nullable=False),
        sa.Column('mint', sa.String(length=64), nullable=False),
        sa.Column('delta_atoms', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('owner', 'mint'),
    )


def downgrade():
    op.drop_table('sim_chain_balances')
    with op.batch_alter_table('sim_chain_transactions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sim_chain_transactions_owner'))
    op.drop_table('sim_chain_transactions')
    with op.batch_alter_table('trade_legs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trade_legs_tx_signature'))
        batch_op.drop_column('last_valid_block_height')
        batch_op.drop_column('slot')
        batch_op.drop_column('tx_signature')
