"""Admin JSON API of the external RFQ makers (issue 15): list, add, read (with its scorecard), edit, remove.

The API key is write-only: accepted on create and edit, never returned (`has_api_key` says whether one is set).
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user

from models import utcnow
from read import maker_scorecards
from services import makers
from services.market import Market
from web import serializers
from web.errors import api_error, register_api_errors
from web.json_body import request_json

bp = Blueprint("api_makers", __name__)


def _market() -> Market:
    """The process's market (the RFQ client lives on it)."""
    return current_app.extensions["market"]


register_api_errors(bp)


@bp.get("/api/v1/makers")
def list_makers():
    """Every configured maker (no API keys)."""
    now = utcnow()
    return jsonify({"makers": [serializers.maker_json(m, now) for m in makers.all_makers()]})


@bp.post("/api/v1/makers")
def create_maker():
    """Add a maker; 201 with the maker as GET answers it."""
    m = makers.create(_market(), request_json(), current_user._get_current_object())
    return jsonify(serializers.maker_json(m, utcnow())), 201


@bp.get("/api/v1/makers/<int:maker_id>")
def get_maker(maker_id: int):
    """One maker with its scorecard (`stats`) over ?period=1h|24h|7d|30d|all (default 24h)."""
    m, now = makers.get(maker_id), utcnow()
    period = request.args.get("period", "24h")
    try:
        since = maker_scorecards.since_of(period, now)
    except ValueError as exc:
        return api_error(400, "INVALID_INPUT", str(exc), "period")
    return jsonify({**serializers.maker_json(m, now), "stats": {"period": period,
                                                                **maker_scorecards.scorecard(m.id, since)}})


@bp.patch("/api/v1/makers/<int:maker_id>")
def update_maker(maker_id: int):
    """A partial change (name, base_url, api_key, enabled, timeout_ms, sim_behaviour); answers the maker."""
    m = makers.update(_market(), maker_id, request_json(), current_user._get_current_object())
    return jsonify(serializers.maker_json(m, utcnow()))


@bp.delete("/api/v1/makers/<int:maker_id>")
def delete_maker(maker_id: int):
    """Remove a maker (its history stays); 204."""
    makers.delete(maker_id, current_user._get_current_object())
    return "", 204
