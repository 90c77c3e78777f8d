"""The simulated Jupiter (swap quotes, POST /swap, Price API v3), Solana JSON-RPC node and RFQ makers, over HTTP in
their wire formats. The node's state (landed transactions, balances) is in the database, shared by every worker;
the simulated makers speak Jupiter Z's webhook format at /sim/rfq/<name>/quote|swap|tokens."""
from __future__ import annotations

import time

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import select

from ledger.maker_tables import Maker
from ledger.sim_chain_store import DbChainStore
from models import db
from sim import dex, rpc
from sim.price import price_response
from sim.rfq_makers import Behaviour
from sim.swap_tx import swap_response

bp = Blueprint("sim", __name__, url_prefix="/sim/jupiter")
solana_bp = Blueprint("sim_solana", __name__, url_prefix="/sim")


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


rfq_bp = Blueprint("sim_rfq", __name__, url_prefix="/sim/rfq")


def _maker_answer(name: str, method: str, path: str) -> Response:
    """A simulated maker's answer over HTTP, with the behaviour of the maker row that points at sim://<name>."""
    row = db.session.scalar(select(Maker).where(Maker.base_url == f"sim://{name}"))
    try:
        behaviour = Behaviour.of(row.sim_behaviour if row is not None else None)
    except ValueError:
        behaviour = Behaviour()
    db.session.rollback()  # no transaction stays open while the maker "thinks"
    body = request.get_json(silent=True) if method == "POST" else None
    book = current_app.extensions["sim_makers"]
    status, text = book.answer(name, behaviour, method, path, body)
    return Response(text, status=status, mimetype="application/json")


@rfq_bp.post("/<name>/quote")
def maker_quote(name: str):
    """POST /quote in Jupiter Z's webhook format."""
    return _maker_answer(name, "POST", "/quote")


@rfq_bp.post("/<name>/swap")
def maker_swap(name: str):
    """POST /swap (last look) in Jupiter Z's webhook format."""
    return _maker_answer(name, "POST", "/swap")


@rfq_bp.get("/<name>/tokens")
def maker_tokens(name: str):
    """GET /tokens: the mints the simulated maker quotes."""
    return _maker_answer(name, "GET", "/tokens")
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
    store = DbChainStore(current_app.extensions["sim_pools"].displaced)  # landed swaps pay the pools' displacement
    return jsonify(rpc.handle(body, time.time(), current_app.extensions["sim_config"], store))
