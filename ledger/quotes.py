"""The firm-quote store: a quote is kept server-side so it can be executed by id, never trusted from the client."""
from __future__ import annotations

from sqlalchemy import insert

from models import Quote, db

COLUMNS = tuple(c.key for c in Quote.__table__.columns)


def store_quote(row: Quote) -> None:
    """Persist a firm quote so it can be executed by id (never trusted from the client): one INSERT statement and
    the commit, no unit of work (`row` stays a plain, unattached value the caller can read without a reload)."""
    db.session.execute(insert(Quote.__table__), {key: getattr(row, key) for key in COLUMNS})
    db.session.commit()
