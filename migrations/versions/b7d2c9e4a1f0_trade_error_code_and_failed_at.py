"""trades: error_code and failed_at (execution integrity: pending -> filled | failed)

Revision ID: b7d2c9e4a1f0
Revises: 6d7e71f4d140
Create Date: 2026-11-26 01:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d2c9e4a1f0'
down_revision = '6d7e71f4d140'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('trades', schema=None) as batch_op:
        batch_op.add_column(sa.Column('error_code', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('trades', schema=None) as batch_op:
        batch_op.drop_column('failed_at')
        batch_op.drop_column('error_code')
