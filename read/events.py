"""What happened to one user's orders since a moment: finished trades and their quotes' expiries (read-only)."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select

from models import Quote, Trade, db

FINISHED = ("filled", "partial", "rejected", "failed")


def finished_trades(user_id: int, since: datetime, until: datetime, limit: int = 20) -> Sequence[Trade]:
    """The user's trades that reached filled, rejected or failed in (since, until], oldest first."""
    # when the row reached its final status (settled_at may be stamped ahead: the chain's settlement time)
    finished_at = func.coalesce(Trade.failed_at, Trade.executed_at, Trade.created_at)
    return db.session.scalars(
        select(Trade).where(Trade.user_id == user_id, Trade.status.in_(FINISHED), Trade.created_at <= until,
                            finished_at > since, finished_at <= until)
        .order_by(finished_at, Trade.id).limit(limit)).all()


def unused_quotes_expiring(quote_ids: Sequence[str], since: datetime, until: datetime,
                           warning: timedelta) -> Sequence[Quote]:
    """Quotes among `quote_ids`, not executed, expiring in (since, until + warning]: their warning moment
    (expiry - warning) or their expiry falls in (since, until]."""
    if not quote_ids:
        return []
    return db.session.scalars(
        select(Quote).where(Quote.id.in_(list(quote_ids)), Quote.used_at.is_(None),
                            Quote.expires_at > since, Quote.expires_at <= until + warning)
        .order_by(Quote.expires_at)).all()
