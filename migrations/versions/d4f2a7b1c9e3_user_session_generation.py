"""users: session_generation (logout, password change and deactivation end every session of the user)

A signed-in browser's session carries the generation it was issued under; the user loader refuses a session whose
generation is not the user's current one, so bumping it ends every session at once (issue 18, item 1).

Revision ID: d4f2a7b1c9e3
Revises: c3e1f8a92d41
Create Date: 2026-11-26 04:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4f2a7b1c9e3'
down_revision = 'c3e1f8a92d41'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_generation', sa.Integer(), nullable=False, server_default='0'))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_generation')
