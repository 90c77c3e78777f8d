"""system_metrics: worker_id (which process wrote the snapshot) and jupiter_order_errors (errors caused by the order)

Revision ID: f6b8d2e4a1c7
Revises: e5a9c1d7b3f2
Create Date: 2026-12-02 00:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f6b8d2e4a1c7'
down_revision = 'e5a9c1d7b3f2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('system_metrics', schema=None) as batch_op:
        batch_op.add_column(sa.Column('worker_id', sa.String(length=96), nullable=True))
        batch_op.add_column(sa.Column('jupiter_order_errors', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('system_metrics', schema=None) as batch_op:
        batch_op.drop_column('jupiter_order_errors')
        batch_op.drop_column('worker_id')
