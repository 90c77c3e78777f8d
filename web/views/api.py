"""JSON API v1 (../shared/API.md): thin handlers that parse, call the service layer and shape the answer."""
from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, jsonify, request
from flask_login import current_user
from sqlalchemy import select, text

import jupiter_api
from core.tokens import SOL, USDC
from models import OTCPool, Trade, db
from read import analytics, history
from services import accounts, parent_estimates, quoting, trading
from web import context, openapi_spec, serializers
from web.errors import api_error, register_api_errors
from web.json_body import json_body

bp = Blueprint("api", __name__)
MAX_LIMIT = 500
TRADE_STATUSES = openapi_spec.TRADE_STATUSES
VENUE_FILTER = re.compile(openapi_spec.VENUE_FILTER_PATTERN)


register_api_errors(bp)


@bp.get("/healthz")
def healthz():
    """200 while the app can serve: DB reachability, the Jupiter client's breaker, the reference price's health."""
    try:
        db.session.execute(text("SELECT 1"))
        db_state = "ok"
    except Exception:
        db.session.rollback()
        db_state = "down"
    breaker = context.market().jupiter.stats().get("breaker_state", "closed")
    jupiter = {"closed": "ok", "half_open": "degraded"}.get(breaker, "down")
    try:  # cached PRICE_CACHE_MS: health checks cost at most one Price API call per that time
        context.market().mid_price(SOL, USDC)
        reference = "ok"
    except jupiter_api.JupiterError:
        reference = "down"
    return jsonify({"status": "ok" if db_state == "ok" else "degraded", "db": db_state, "jupiter": jupiter,
                    "reference_price": reference}), 200 if db_state == "ok" else 503


@bp.post("/api/v1/quotes")
def create_quote():
    """Quote an order on every venue and decide the route; nothing is executed."""
    order = quoting.parse_order(json_body())
    try:
        _, body = quoting.quote(context.market(), order, user_id=current_user.id)
    except quoting.ServiceError as exc:  # COST_LIMIT: with the parent order that would fit
        raise parent_estimates.suggest_parent(context.market(), order, exc) from None
    return jsonify(body), 200


@bp.post("/api/v1/trades")
def create_trade():
    """Execute a fresh order, or a stored quote by `quote_id`."""
    body = json_body()
    key = request.headers.get("Idempotency-Key")
    if key == "":  # an empty key is a client bug, not "no key": retrying it would trade twice
        raise quoting.InputError("the Idempotency-Key header is empty: send 1 to 128 characters, or no header",
                                 field="Idempotency-Key")
    if key is not None and len(key) > 128:
        raise quoting.InputError("Idempotency-Key must be 1 to 128 characters", field="Idempotency-Key",
                                 code="INVALID_IDEMPOTENCY_KEY")
    market = context.market()
    try:
        trade, created = trading.execute_request(market, body, idempotency_key=key, user_id=current_user.id,
                                                 hard_confirm=market.settings.guardrails.confirm_api)
    except quoting.ServiceError as exc:  # a fresh order's COST_LIMIT: with the parent order that would fit
        raise (parent_estimates.suggest_parent(market, quoting.parse_order(body), exc)
               if exc.code == "COST_LIMIT" and "quote_id" not in body else exc) from None
    status = 202 if trade.status == "unknown" else 201 if created else 200  # unknown: its transaction may land
    return jsonify(serializers.trade_json(trade, detail=True)), status


@bp.get("/api/v1/trades")
def list_trades():
    """Trades newest first with keyset pagination and filters."""
    try:
        limit = int(request.args.get("limit", 50))
    except ValueError:
        raise quoting.InputError("limit must be a whole number", field="limit") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise quoting.InputError(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    cursor = request.args.get("cursor")
    if cursor is not None and not (cursor.isascii() and cursor.isdigit() and len(cursor) <= 18):
        raise quoting.InputError("cursor must be the next_cursor of a previous page", field="cursor")
    filters: dict[str, Any] = {k: request.args.get(k) for k in ("venue", "status", "pair") if request.args.get(k)}
    if "status" in request.args and request.args["status"] not in TRADE_STATUSES:  # empty too: the spec's enum
        raise quoting.InputError(f"status must be one of {', '.join(TRADE_STATUSES)}", field="status")
    mine = request.args.get("mine")
    if mine not in (None, "true", "false", "1", "0"):
        raise quoting.InputError("mine must be true or false", field="mine")
    if mine in ("true", "1"):  # the caller's own trades (its token's user)
        filters["user_id"] = current_user.id
    elif request.args.get("trader"):  # username; an unknown one matches no trade
        trader = accounts.user_by_name(request.args["trader"])
        filters["user_id"] = trader.id if trader is not None else -1
    search = (request.args.get("q") or "").strip()
    if len(search) > 64:
        raise quoting.InputError("q must be a trade id or a quote id (at most 64 characters)", field="q")
    if search:
        filters["search"] = search
    if "venue" in request.args and not VENUE_FILTER.fullmatch(request.args["venue"]):
        raise quoting.InputError("venue must be jupiter, split, none, otc:<pool> or rfq:<maker>", field="venue")
    trades, next_cursor = history.trade_page(limit=limit, before_id=int(cursor) if cursor else None, **filters)
    return jsonify({"trades": [serializers.trade_json(t) for t in trades], "next_cursor": next_cursor})


@bp.get("/api/v1/trades/<int:trade_id>")
def get_trade(trade_id: int):
    """One trade with its legs and the quotes it was decided on."""
    trade = db.session.get(Trade, trade_id)
    if trade is None:
        return api_error(404, "NOT_FOUND", f"no trade with id {trade_id}")
    return jsonify(serializers.trade_json(trade, detail=True))


@bp.get("/api/v1/pools")
def list_pools():
    """Every OTC pool with configuration and stored inventory."""
    pools = db.session.scalars(select(OTCPool).order_by(OTCPool.id)).all()
    return jsonify({"pools": [serializers.pool_json(p) for p in pools]})


@bp.get("/api/v1/pools/<int:pool_id>")
def get_pool(pool_id: int):
    """One OTC pool."""
    pool = db.session.get(OTCPool, pool_id)
    if pool is None:
        return api_error(404, "NOT_FOUND", f"no pool with id {pool_id}")
    return jsonify(serializers.pool_json(pool))


@bp.get("/api/v1/analytics/summary")
def analytics_summary():
    """Totals over `?since=` (ISO 8601): trades, volume, savings, route mix."""
    since = request.args.get("since")
    try:
        since_at = datetime.fromisoformat(since.replace("Z", "+00:00")) if since else None
    except ValueError:
        raise quoting.InputError("since must be an ISO 8601 time, e.g. 2026-11-01T00:00:00Z", field="since") from None
    if since_at is not None and since_at.tzinfo is None:
        raise quoting.InputError("since must carry a timezone, e.g. a trailing Z", field="since")
    if since_at is not None and not 1970 <= since_at.year <= 9998:
        raise quoting.InputError("since must be between 1970 and 9998", field="since")
    return jsonify(analytics.summary(since_at.astimezone(UTC) if since_at else None))


@bp.get("/api/v1/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API (openapi_spec.py); public."""
    return jsonify(openapi_spec.spec())
