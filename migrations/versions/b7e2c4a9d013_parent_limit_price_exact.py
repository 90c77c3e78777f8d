"""parent_orders.limit_price stored as plain decimal text (read back exactly; SQLite's NUMERIC is a float)

Revision ID: b7e2c4a9d013
Revises: d31f10c969a0
Create Date: 2026-12-02 12:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b7e2c4a9d013'
down_revision = 'd31f10c969a0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('parent_orders') as batch:
        batch.alter_column('limit_price', existing_type=sa.Numeric(38, 18), type_=sa.String(48),
                           existing_nullable=True, postgresql_using='limit_price::text')


def downgrade():
    with op.batch_alter_table('parent_orders') as batch:
        batch.alter_column('limit_price', existing_type=sa.String(48), type_=sa.Numeric(38, 18),
                           existing_nullable=True, postgresql_using='limit_price::numeric(38, 18)')
