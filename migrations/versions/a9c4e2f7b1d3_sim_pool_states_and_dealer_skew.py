"""sim_pool_states (persistent impact in the simulated AMM pools) and otc_pools.inventory_skew_bps (dealer skew)

Revision ID: a9c4e2f7b1d3
Revises: f6b8d2e4a1c7
Create Date: 2026-12-02 02:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a9c4e2f7b1d3'
down_revision = 'f6b8d2e4a1c7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sim_pool_states',
        sa.Column('amm_key', sa.String(length=64), nullable=False),
        sa.Column('base_atoms', sa.BigInteger(), nullable=False),
        sa.Column('as_of_s', sa.BigInteger(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('amm_key'),
    )
    with op.batch_alter_table('otc_pools', schema=None) as batch_op:
        batch_op.add_column(sa.Column('inventory_skew_bps', sa.Numeric(precision=12, scale=4), nullable=False,
                                      server_default='0'))


def downgrade():
    with op.batch_alter_table('otc_pools', schema=None) as batch_op:
        batch_op.drop_column('inventory_skew_bps')
    op.drop_table('sim_pool_states')
