"""The firm-quote store: a quote is kept server-side so it can be executed by id, never trusted from the client."""
from __future__ import annotations

from models import Quote, db


def store_quote(row: Quote) -> None:
    """Persist a firm quote so it can be executed by id (never trusted from the client)."""
    db.session.add(row)
    db.session.commit()
