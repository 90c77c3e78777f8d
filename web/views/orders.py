"""Parent-order pages (issue 16): the list and one order's live page (parent_order.js polls the JSON API)."""
from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal
from typing import Any

from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from core.tokens import TOKENS
from ledger import parent_orders as store
from ledger.parent_orders import ParentOrder
from models import db
from read import history as blotter
from services import parent_progress
from web import auth, serializers
from web.formatting import display_places

bp = Blueprint("orders", __name__)
LIST_SIZE = 50


def progress_pct(filled_atoms: int, amount_atoms: int) -> str:
    """Filled share of the amount in percent, one decimal, rounded down (never shows 100 % before it is)."""
    if amount_atoms <= 0:
        return "0.0"
    return str((Decimal(filled_atoms * 100) / amount_atoms).quantize(Decimal("0.1"), rounding=ROUND_FLOOR))


def duration_text(duration_s: int) -> str:
    """A duration as a trader reads it: '45 s', '10 min', '1 h 30 min' (whole seconds shown when not round)."""
    hours, rest = divmod(duration_s, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{hours} h"] * bool(hours) + [f"{minutes} min"] * bool(minutes) + [f"{seconds} s"] * bool(seconds)
    return " ".join(parts) or "0 s"


def token_data() -> dict[str, dict[str, Any]]:
    """Every token by mint with its symbol, decimals and display places (page data for the JS formatters)."""
    return {t.mint: {"symbol": t.symbol, "decimals": t.decimals, "places": display_places(t)} for t in TOKENS}


@bp.get("/orders")
def orders_page():
    """Parent orders newest first; `mine=1` shows the signed-in user's."""
    mine = request.args.get("mine") == "1"
    rows = [parent_progress.progress(r) for r in store.page(user_id=current_user.id if mine else None,
                                                          limit=LIST_SIZE)]
    return render_template("orders.html", rows=rows, mine=mine, limit=LIST_SIZE, pct=progress_pct,
                           duration=duration_text, traders=blotter.trader_names(p.parent.user_id for p in rows))


@bp.get("/orders/<int:order_id>")
def order_page(order_id: int):
    """One parent order: facts, progress against its schedule, the slices as a timeline, cancel."""
    row = db.session.get(ParentOrder, order_id)
    if row is None:
        abort(404, f"There is no parent order #{order_id}.")
    data = serializers.parent_json(parent_progress.progress(row))
    may_cancel = auth.can("api_orders.cancel_order", "POST") and auth.owns_or_admin(row.user_id)
    return render_template("order_detail.html", order=row, data=data, tokens=token_data(), may_cancel=may_cancel,
                           duration=duration_text(row.duration_s),
                           trader=blotter.trader_names([row.user_id]).get(row.user_id or -1, "—"))
