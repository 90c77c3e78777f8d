"""JSON API of parent orders (issue 16): place, list, read, cancel; the ticket's now / split / over-time estimate."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user

from ledger import parent_orders as store
from ledger.parent_orders import ParentOrder
from models import db
from services import guardrails, parent_estimates, parent_orders, parent_progress, quoting
from web import auth, context, serializers
from web.errors import api_error, register_api_errors
from web.json_body import json_object

bp = Blueprint("api_orders", __name__)


register_api_errors(bp)


@bp.post("/api/v1/orders")
def create_order():
    """Place a parent order (TWAP or adaptive); the job runner works it slice by slice."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= 128:
        raise quoting.InputError("Idempotency-Key must be 1 to 128 characters", field="Idempotency-Key",
                                 code="INVALID_IDEMPOTENCY_KEY")
    body = json_object()
    market = context.market()
    acknowledged = guardrails.acknowledged(body)  # a boolean when given, whatever the setting
    if market.settings.guardrails.confirm_api:  # HARD_CONFIRM_API: a parent above HARD_CONFIRM_USD is acknowledged
        parent_estimates.confirm_parent(market, body, acknowledged)
    parent, created = parent_orders.place(context.market(), body, user_id=current_user.id, idempotency_key=key)
    if created:
        current_app.extensions["jobs"].enqueue_parent(parent.id)
        db.session.expire_all()
    return jsonify(serializers.parent_json(parent_progress.progress(_reload(parent.id)))), 201 if created else 200


def _reload(parent_id: int) -> ParentOrder:
    """The parent row as stored now."""
    row = db.session.get(ParentOrder, parent_id)
    assert row is not None
    return row


@bp.get("/api/v1/orders")
def list_orders():
    """Parent orders newest first (`mine=true`: the caller's)."""
    given = request.args.getlist("mine")
    if len(given) > 1 or (given and given[0] not in ("true", "false", "1", "0")):
        raise quoting.InputError("mine must be one of true, false, 1 or 0", field="mine")
    mine = bool(given) and given[0] in ("true", "1")
    rows = store.page(user_id=current_user.id if mine else None)
    return jsonify({"orders": [serializers.parent_json(parent_progress.progress(r)) for r in rows]})


@bp.get("/api/v1/orders/<int:order_id>")
def get_order(order_id: int):
    """One parent order with its slices and children."""
    row = db.session.get(ParentOrder, order_id)
    if row is None:
        return api_error(404, "NOT_FOUND", f"no parent order with id {order_id}")
    return jsonify(serializers.parent_json(parent_progress.progress(row)))


@bp.post("/api/v1/orders/<int:order_id>/cancel")
def cancel_order(order_id: int):
    """Stop a working parent order: the filled part stays; the trader who placed it, or an admin."""
    row = db.session.get(ParentOrder, order_id)
    if row is None:
        return api_error(404, "NOT_FOUND", f"no parent order with id {order_id}")
    if not auth.owns_or_admin(row.user_id):
        return api_error(403, "FORBIDDEN", "only the trader who placed this order (or an admin) may cancel it")
    return jsonify(serializers.parent_json(parent_progress.progress(parent_orders.cancel(order_id))))


@bp.post("/api/v1/orders/estimate")
def estimate_order():
    """The ticket's side-by-side estimate: one venue now, the split now, and the order over N minutes."""
    body = json_object()
    return jsonify(parent_estimates.estimate(context.market(), body, current_app.config))
