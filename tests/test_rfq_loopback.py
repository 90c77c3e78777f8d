"""An external maker on loopback speaking Jupiter Z's webhook format, added through POST /api/v1/makers: it wins
when it quotes best, is dropped when it answers after the window, and a last-look rejection never makes a 5xx."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from core.tokens import SOL, USDC
from models import db
from tests.conftest import build_app

ORDER = {"input": "SOL", "output": "USDC", "amount": "25000"}
MAKER_PUBKEY = "8iJxVDtFxnWpdCvdrgNDSXigxHo9vLf7KCS1pNKrs5Nh"  # the maker names its pubkey (the fill's fee payer)


class MakerState:
    """What the loopback maker does: its price (USDC atoms per SOL atom), delay and last-look answer."""

    def __init__(self) -> None:
        self.usdc_per_sol = Decimal(0)
        self.delay_s = 0.0
        self.accept = True
        self.swaps: list[dict[str, Any]] = []
        self.keys: list[str | None] = []


def make_handler(state: MakerState) -> type[BaseHTTPRequestHandler]:
    """A Jupiter Z webhook: /quote, /swap, /tokens."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._send(200, [SOL.mint, USDC.mint])

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.keys.append(self.headers.get("X-API-KEY"))
            if self.path.endswith("/swap"):
                state.swaps.append(body)
                self._send(200, {"quoteId": body["quoteId"], "state": "accepted"} if state.accept else
                           {"quoteId": body["quoteId"], "state": "rejected", "rejectionReason": "insufficientBalance"})
                return
            time.sleep(state.delay_s)
            if body["tokenIn"] != SOL.mint or body["quoteType"] != "exactIn":
                self._send(404, {"message": "one way only"})
                return
            out = int(Decimal(body["amount"]) * state.usdc_per_sol)
            self._send(200, {"requestId": body["requestId"], "quoteId": body["quoteId"], "tokenIn": body["tokenIn"],
                             "amountIn": body["amount"], "tokenOut": body["tokenOut"], "amountOut": str(out),
                             "quoteType": body["quoteType"], "protocol": "v1", "maker": MAKER_PUBKEY})

    return Handler


class QuietServer(ThreadingHTTPServer):
    """A loopback server that does not print the broken pipes of answers we stopped waiting for."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


@pytest.fixture
def maker() -> Iterator[tuple[str, MakerState]]:
    """A running loopback maker: (base URL, its state)."""
    state = MakerState()
    server = QuietServer(("127.0.0.1", 0), make_handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jupiter/rfq", state
    server.shutdown()
    server.server_close()


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """The app with no simulated makers (only the loopback one, once added)."""
    app = build_app(f"sqlite:///{tmp_path / 'loop.db'}")
    yield app
    with app.app_context():
        db.engine.dispose()


def test_a_loopback_maker_added_by_api_wins_is_dropped_when_late_and_rejections_are_clean(
        maker: tuple[str, MakerState], client: FlaskClient) -> None:
    url, state = maker
    mid = Decimal(client.post("/api/v1/quotes", json=ORDER).get_json()["mid_price"])
    state.usdc_per_sol = mid * Decimal("0.9999") / 1000  # 1 bp under mid: the best price by far (SOL 9, USDC 6 dp)
    res = client.post("/api/v1/makers", json={"name": "loop", "base_url": url, "api_key": "loop-key",
                                              "enabled": True, "timeout_ms": 400})
    assert res.status_code == 201 and res.get_json()["tokens"] == sorted([SOL.mint, USDC.mint])

    body = client.post("/api/v1/quotes", json=ORDER).get_json()
    assert body["decision"]["venue"] == "rfq:loop"
    assert "loop-key" in state.keys
    trade = client.post("/api/v1/trades", json={"quote_id": body["quote_id"]})
    assert trade.status_code == 201 and trade.get_json()["venue"] == "rfq:loop"
    assert len(state.swaps) == 1 and state.swaps[0]["quoteId"]

    state.delay_s = 0.7  # after the 400 ms timeout and the 500 ms window
    started = time.perf_counter()
    body = client.post("/api/v1/quotes", json=ORDER).get_json()
    assert time.perf_counter() - started < 0.7 + 0.5
    loop = next(o for o in body["options"] if o["venue"] == "rfq:loop")
    assert loop["available"] is False and loop["reason"].startswith("late")
    assert body["decision"]["venue"] != "rfq:loop"

    state.delay_s, state.accept = 0.0, False
    body = client.post("/api/v1/quotes", json=ORDER).get_json()
    assert body["decision"]["venue"] == "rfq:loop"
    res = client.post("/api/v1/trades", json={"quote_id": body["quote_id"]})
    assert res.status_code < 500, res.get_json()
    done = res.get_json() if res.status_code == 201 else \
        client.get(f"/api/v1/trades/{res.get_json()['error']['trade_id']}").get_json()
    assert done["status"] in ("filled", "failed")
    if done["status"] == "filled":
        assert done["explanation"].startswith("Last look: rfq:loop rejected (insufficientBalance)")
    else:  # re-routed to Jupiter, whose price for all 25,000 SOL breaks the trader's 50 bps: a clean failure
        assert res.get_json()["error"]["code"] == "SLIPPAGE_EXCEEDED"
        assert "rfq:loop rejected (insufficientBalance)" in res.get_json()["error"]["message"]
