"""quotes: user_id (a firm quote belongs to the user who requested it; only that user may execute it)

Revision ID: e8a3c5d7f210
Revises: d4f2a7b1c9e3
Create Date: 2026-11-26 04:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e8a3c5d7f210'
down_revision = 'd4f2a7b1c9e3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('quotes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('quotes', schema=None) as batch_op:
        batch_op.drop_column('user_id')
