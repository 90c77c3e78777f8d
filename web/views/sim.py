"""The simulated Jupiter served over HTTP in Jupiter's exact wire formats: swap quotes and Price API v3."""
from __future__ import annotations

import time

from flask import Blueprint, Response, current_app, jsonify, request

from sim import dex
from sim.price import price_response

bp = Blueprint("sim", __name__, url_prefix="/sim/jupiter")


@bp.get("/swap/v1/quote")
def quote():
    """GET /quote with Jupiter's query parameters; answers as Jupiter does."""
    now_s = time.time()
    moved = current_app.extensions["sim_pools"].displaced(now_s)  # our own past swaps still move the pools
    status, body = dex.quote_response(request.args, now_s, current_app.extensions["sim_config"], moved)
    return jsonify(body), status


@bp.get("/price/v3")
def price():
    """GET /price/v3?ids=<mints>: USD reference prices as Jupiter's Price API answers (exact JSON numbers)."""
    status, text = price_response(request.args, time.time(), current_app.extensions["sim_config"])
    return Response(text, status=status, mimetype="application/json")
