"""GET /api/v1/me/events: the signed-in user's trades finished and firm quotes expiring since a moment.

Every open page of the user polls it (app.js) and raises a toast per event. Quotes are the firm quotes this browser
session asked for on the ticket (remembered in the session: quotes carry no user), trades are the user's own.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, jsonify, request, session, url_for
from flask_login import current_user

from core.tokens import token_by_mint
from models import Quote, Trade, utcnow
from read import events
from web.formatting import atoms, iso_z

bp = Blueprint("events", __name__)
SESSION_KEY = "olr_quotes"
REMEMBERED_QUOTES = 10
QUOTE_WARNING = timedelta(seconds=10)  # "expires in 10 s" before the quote lapses
MAX_LOOKBACK = timedelta(hours=1)


def remember_quote(quote_id: str) -> None:
    """Note a firm quote this session asked for, so its expiry raises a toast on the user's pages."""
    ids = [q for q in session.get(SESSION_KEY, []) if q != quote_id]
    session[SESSION_KEY] = [*ids, quote_id][-REMEMBERED_QUOTES:]


def _since(now: datetime) -> datetime:
    """?since= (ISO 8601; naive = UTC), at most MAX_LOOKBACK ago; absent: now (nothing yet, just the cursor)."""
    raw = (request.args.get("since") or "").strip()
    if not raw:
        return now
    try:
        since = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("since must be an ISO 8601 time such as 2026-11-26T10:00:05.123Z") from None
    since = since.replace(tzinfo=UTC) if since.tzinfo is None else since.astimezone(UTC)
    return min(max(since, now - MAX_LOOKBACK), now)


def _amount(value: int | None, mint: str) -> str:
    """An amount with its symbol, at display precision."""
    return f"{atoms(value, mint)} {token_by_mint(mint).symbol}"


def _trade_event(t: Trade) -> dict[str, Any]:
    """A trade that finished: filled (what moved, where) or refused (why)."""
    at = t.failed_at or t.executed_at or t.created_at
    if t.status in ("filled", "partial"):
        message = (f"Trade #{t.id} {t.status}: {_amount(t.in_amount_atoms, t.input_mint)} → "
                   f"{_amount(t.out_amount_atoms, t.output_mint)} on {t.venue}.")
    else:
        message = f"Trade #{t.id} {t.status}: {t.error or 'nothing moved'}"
    return {"id": f"trade:{t.id}:{t.status}", "kind": f"trade_{t.status}", "at": iso_z(at), "message": message,
            "level": {"filled": "success", "partial": "warning", "rejected": "warning"}.get(t.status, "danger"),
            "url": url_for("web.trade_detail", trade_id=t.id), "trade_id": t.id}


def _quote_events(q: Quote, since: datetime, now: datetime) -> list[dict[str, Any]]:
    """A remembered quote's warning ("expires at …") and expiry, each once, when its moment is in (since, now]."""
    pair = f"{token_by_mint(q.input_mint).symbol} → {token_by_mint(q.output_mint).symbol}"
    url = url_for("web.quote_detail", quote_id=q.id)
    out = []
    if since < q.expires_at - QUOTE_WARNING <= now:
        out.append({"id": f"quote:{q.id}:expiring", "kind": "quote_expiring", "at": iso_z(q.expires_at - QUOTE_WARNING),
                    "expires_at": iso_z(q.expires_at), "level": "warning", "url": url, "quote_id": q.id,
                    "message": f"Your {pair} quote expires in {int(QUOTE_WARNING.total_seconds())} s."})
    if since < q.expires_at <= now:
        out.append({"id": f"quote:{q.id}:expired", "kind": "quote_expired", "at": iso_z(q.expires_at),
                    "expires_at": iso_z(q.expires_at), "level": "info", "url": url, "quote_id": q.id,
                    "message": f"Your {pair} quote expired: refresh it to trade."})
    return out


@bp.get("/api/v1/me/events")
def me_events():
    """The caller's events in (since, now], oldest first, and `now` to send as the next `since`."""
    now = utcnow()
    try:
        since = _since(now)
    except ValueError as exc:
        return jsonify({"error": {"code": "INVALID_INPUT", "message": str(exc), "field": "since"}}), 400
    found = [_trade_event(t) for t in events.finished_trades(current_user.id, since, now)]
    for quote in events.unused_quotes_expiring(session.get(SESSION_KEY, []), since, now, QUOTE_WARNING):
        found.extend(_quote_events(quote, since, now))
    found.sort(key=lambda e: e["at"])
    return jsonify({"now": iso_z(now), "since": iso_z(since), "events": found})
