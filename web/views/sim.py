"""The simulated Jupiter (swap quotes, POST /swap, Price API v3) and Solana JSON-RPC node, over HTTP in their wire
formats. The node's state (landed transactions, balances) is in the database, shared by every worker."""
from __future__ import annotations

import time

from flask import Blueprint, Response, current_app, jsonify, request

from ledger.sim_chain_store import DbChainStore
from sim import dex, rpc
from sim.price import price_response
from sim.swap_tx import swap_response

bp = Blueprint("sim", __name__, url_prefix="/sim/jupiter")
solana_bp = Blueprint("sim_solana", __name__, url_prefix="/sim")


@bp.get("/swap/v1/quote")
def quote():
    """GET /quote with Jupiter's query parameters; answers as Jupiter does."""
    status, body = dex.quote_response(request.args, time.time(), current_app.extensions["sim_config"])
    return jsonify(body), status


@bp.get("/price/v3")
def price():
    """GET /price/v3?ids=<mints>: USD reference prices as Jupiter's Price API answers (exact JSON numbers)."""
    status, text = price_response(request.args, time.time(), current_app.extensions["sim_config"])
    return Response(text, status=status, mimetype="application/json")


@bp.post("/swap/v1/swap")
def swap():
    """POST /swap {quoteResponse, userPublicKey, ...}: the unsigned swap transaction, as Jupiter answers."""
    status, body = swap_response(request.get_json(silent=True), time.time(), current_app.extensions["sim_config"])
    return jsonify(body), status


@solana_bp.post("/solana")
def solana():
    """Solana JSON-RPC 2.0 (sendTransaction, getSignatureStatuses, getTransaction, ...), as a node answers."""
    body = request.get_json(silent=True)
    if body is None:
        return jsonify(rpc.parse_error())
    return jsonify(rpc.handle(body, time.time(), current_app.extensions["sim_config"], DbChainStore()))
