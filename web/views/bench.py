"""Benchmark-only endpoint, registered only when BENCH_ENDPOINTS=1 (never in production): the framework ceiling.

`bench/api.py` compares the API's throughput with this constant JSON answer served by the same app and server
(same hooks: auth policy, security headers, metrics throttle), so the ratio shows what the app's own work costs.
"""
from __future__ import annotations

from flask import Blueprint, jsonify

bp = Blueprint("bench", __name__)


@bp.route("/bench/constant", methods=["GET", "POST"])
def constant():
    """A constant JSON object; the request body, if any, is not read."""
    return jsonify({"status": "ok"})
