"""The simulated Jupiter DEX served over HTTP in Jupiter's exact wire format."""
from __future__ import annotations

import time

from flask import Blueprint, current_app, jsonify, request

from sim import dex

bp = Blueprint("sim", __name__, url_prefix="/sim/jupiter/swap/v1")


@bp.get("/quote")
def quote():
    """GET /quote with Jupiter's query parameters; answers as Jupiter does."""
    status, body = dex.quote_response(request.args, time.time(), current_app.extensions["sim_config"])
    return jsonify(body), status
