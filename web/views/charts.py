"""JSON for our pages' live widgets and charts, under /api/v1/analytics/ (GET only, read-side)."""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, jsonify, request

from models import utcnow
from read import series, tca_series, window
from services import cost_chart, monitoring
from web import context, serializers
from web.errors import api_error

bp = Blueprint("charts", __name__, url_prefix="/api/v1/analytics")


class RangeError(ValueError):
    """A bad range query parameter: message and the parameter at fault."""

    def __init__(self, message: str, field: str):
        self.field = field
        super().__init__(message)


@bp.errorhandler(RangeError)
def _range_error(exc: RangeError):
    """400 naming the parameter."""
    return api_error(400, "INVALID_INPUT", str(exc), exc.field)


def _date_arg(name: str) -> date | None:
    """?from= / ?to= as a YYYY-MM-DD date, or None."""
    value = request.args.get(name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RangeError(f"{name} must be a date like 2026-11-01", name) from None


def window_from_request(default_range: str = window.DEFAULT_RANGE) -> window.Window:
    """The analytics window of ?range= (24h, 7d, 30d, 90d, all) or ?from=&to= (inclusive UTC dates)."""
    range_key = request.args.get("range") or default_range
    if range_key not in (*window.RANGES, "all"):
        raise RangeError("range must be one of 24h, 7d, 30d, 90d, all", "range")
    try:
        return window.make_window(range_key, _date_arg("from"), _date_arg("to"),
                                            utcnow(), window.first_trade_at())
    except RangeError:
        raise
    except ValueError as exc:
        raise RangeError(str(exc), "to") from None


@bp.get("/dashboard")
def dashboard():
    """Today's and all-time totals, the latest trades, live pool inventory and Jupiter's state."""
    data: dict[str, Any] = serializers.dashboard_json(utcnow(), context.market().settings.guardrails.low_water_pct)
    data["jupiter"] = monitoring.jupiter_status(context.market())
    return jsonify(data)


@bp.get("/charts")
def charts():
    """Every analytics chart's series over the requested window, savings against ?benchmark= (default best single
    venue), and the TCA charts (KPIs per benchmark, shortfall by size, markouts by venue)."""
    w = window_from_request()
    return jsonify({**tca_series.with_benchmark(series.all_series(w), w, benchmark_from_request()),
                    "tca": tca_series.all_tca(w)})


def benchmark_from_request() -> str:
    """?benchmark= (best_single_venue, jupiter_one_shot, twap; default best_single_venue); RangeError otherwise."""
    try:
        return tca_series.benchmark_of(request.args.get("benchmark"))
    except ValueError as exc:
        raise RangeError(str(exc), "benchmark") from None


@bp.get("/cost-curve")
def cost_curve():
    """All-in cost (bps) vs size per venue and the router's choice, for ?pair=SOL/USDC&side=sell|buy."""
    pair, side = request.args.get("pair", "SOL/USDC"), request.args.get("side", "sell")
    try:
        return jsonify(cost_chart.cost_curve(context.market(), pair, side, utcnow()))
    except ValueError as exc:
        return api_error(400, "INVALID_INPUT", str(exc), "side" if "side" in str(exc) else "pair")


@bp.get("/monitoring")
def monitoring_data():
    """Live Jupiter client counters and DB health, plus the SystemMetrics history over the window."""
    data = monitoring.live_status(context.market())
    data["history"] = monitoring.metrics_series(window_from_request("24h"))
    return jsonify(data)
