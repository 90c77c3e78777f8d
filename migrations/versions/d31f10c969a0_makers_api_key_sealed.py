"""makers: the API key sealed at rest (api_key -> api_key_sealed, ledger.sealed (Fernet) under the instance's MAKER_KEY)

Existing plaintext keys are sealed in place; the downgrade unseals them back. The key is the app's
(MAKER_KEY, else instance/maker-key): run through `flask db upgrade` / `flask init-db`.

Revision ID: d31f10c969a0
Revises: a9c4e2f7b3d1
Create Date: 2026-12-02 07:10:00.000000

"""
import sqlalchemy as sa
from alembic import op
from flask import current_app

from ledger import sealed

# revision identifiers, used by Alembic.
revision = 'd31f10c969a0'
down_revision = 'a9c4e2f7b3d1'
branch_labels = None
depends_on = None

MAKERS = sa.table('makers', sa.column('id', sa.Integer()), sa.column('api_key', sa.String(255)),
                  sa.column('api_key_sealed', sa.Text()))


def _key() -> bytes:
    """The app's sealing key (create_app puts it in the config)."""
    return current_app.config["MAKER_KEY_BYTES"]


def upgrade():
    with op.batch_alter_table('makers') as batch:
        batch.add_column(sa.Column('api_key_sealed', sa.Text(), nullable=True))
    conn, key = op.get_bind(), None
    for row in conn.execute(sa.select(MAKERS.c.id, MAKERS.c.api_key).where(MAKERS.c.api_key.is_not(None))).all():
        key = key or _key()
        conn.execute(MAKERS.update().where(MAKERS.c.id == row.id).values(
            api_key_sealed=sealed.seal(key, row.api_key)))
    with op.batch_alter_table('makers') as batch:
        batch.drop_column('api_key')


def downgrade():
    with op.batch_alter_table('makers') as batch:
        batch.add_column(sa.Column('api_key', sa.String(length=255), nullable=True))
    conn, key = op.get_bind(), None
    for row in conn.execute(sa.select(MAKERS.c.id, MAKERS.c.api_key_sealed)
                            .where(MAKERS.c.api_key_sealed.is_not(None))).all():
        key = key or _key()
        conn.execute(MAKERS.update().where(MAKERS.c.id == row.id).values(
            api_key=sealed.unseal(key, row.api_key_sealed)))
    with op.batch_alter_table('makers') as batch:
        batch.drop_column('api_key_sealed')
