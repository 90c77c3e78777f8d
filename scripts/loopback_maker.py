"""An external RFQ maker on loopback speaking Jupiter Z's webhook format, for the done-means demo (issue 15).

    .venv/bin/python scripts/loopback_maker.py --port 5199 --app http://127.0.0.1:5104 --better-bps 30

Serves `GET /jupiter/rfq/tokens`, `POST /jupiter/rfq/quote` (SOL <-> USDC/USDT, both quote types, priced off the
app's reference price `GET {app}/sim/jupiter/price/v3`, `--better-bps` better than mid for the taker) and
`POST /jupiter/rfq/swap` (last look: it decodes the fill transaction and checks it, sim/rfq_fill_check.py: paid by
this maker's key, signed by the taker, the quoted mints and amounts, then accepts, or rejects when told to).
`POST /control {"delay_ms": 700, "accept": false, "better_bps": 10}` changes its behaviour while it runs;
`GET /control` shows it and what it saw. Its keypair is made at start and never printed; only its pubkey is.
Add it to the app with `POST /api/v1/makers {"name": "loop", "base_url": "http://127.0.0.1:5199/jupiter/rfq"}`.
"""
from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.request import urlopen

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from solders.keypair import Keypair

from core.rfq_fill import FillTerms
from core.tokens import SOL, USDC, USDT
from sim.rfq_fill_check import check_fill

QUOTES = {USDC.mint: USDC, USDT.mint: USDT}


class Maker:
    """The maker's behaviour (changed through /control), its key and the quotes it gave."""

    def __init__(self, app_url: str, better_bps: Decimal, delay_ms: int, api_key: str | None) -> None:
        self.app_url, self.better_bps, self.delay_ms, self.accept = app_url, better_bps, delay_ms, True
        self.api_key = api_key
        self.keypair = Keypair()
        self.pubkey = str(self.keypair.pubkey())
        self.given: dict[str, tuple[FillTerms, float]] = {}
        self.seen = {"quotes": 0, "swaps": 0, "accepted": 0, "rejected": 0, "bad_key": 0}
        self.lock = threading.Lock()

    def usd(self, mints: list[str]) -> dict[str, Decimal]:
        """USD prices of mints from the app's reference price API."""
        with urlopen(f"{self.app_url}/sim/jupiter/price/v3?ids={','.join(mints)}", timeout=2) as resp:
            body = json.loads(resp.read())
        return {m: Decimal(str(body[m]["usdPrice"])) for m in mints}

    def quote(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """The maker's answer to POST /quote (status, JSON)."""
        token_in, token_out, amount = body["tokenIn"], body["tokenOut"], int(body["amount"])
        pair = {token_in, token_out}
        if SOL.mint not in pair or not pair - {SOL.mint} <= set(QUOTES) or len(pair) != 2:
            return 404, {"message": "pair not quoted"}
        other = QUOTES[(pair - {SOL.mint}).pop()]
        prices = self.usd([SOL.mint, other.mint])
        tokens = {SOL.mint: SOL, other.mint: other}
        rate = prices[token_in] / prices[token_out] * Decimal(10) ** (tokens[token_out].decimals
                                                                     - tokens[token_in].decimals)
        better = 1 + self.better_bps / 10_000  # the taker gets this much more than mid
        price = rate * better  # output atoms per input atom; rounding favours the maker either way
        if body["quoteType"] == "exactIn":
            amount_in, amount_out = amount, int((amount * price).to_integral_value(ROUND_FLOOR))
        else:
            amount_in, amount_out = int((amount / price).to_integral_value(ROUND_CEILING)), amount
        with self.lock:
            self.seen["quotes"] += 1
            self.given[body["quoteId"]] = (FillTerms(str(body.get("taker") or ""), self.pubkey, token_in, token_out,
                                                     amount_in, amount_out, 0), time.time())
        return 200, {"requestId": body["requestId"], "quoteId": body["quoteId"], "tokenIn": token_in,
                     "amountIn": str(amount_in), "tokenOut": token_out, "amountOut": str(amount_out),
                     "quoteType": body["quoteType"], "protocol": "v1", "maker": self.pubkey}

    def swap(self, body: dict[str, Any]) -> dict[str, Any]:
        """Last look on POST /swap: check the fill transaction, then accept or reject."""
        quote_id = body.get("quoteId", "")
        with self.lock:
            self.seen["swaps"] += 1
            given = self.given.pop(quote_id, None)
        if given is None:
            return self._reject(quote_id, "unknown or already used quote")
        terms, _ = given
        wrong = check_fill(str(body.get("transaction", "")), terms, time.time())
        if wrong:
            return self._reject(quote_id, f"invalid transaction: {wrong}")
        if not self.accept:
            return self._reject(quote_id, "insufficientBalance")
        with self.lock:
            self.seen["accepted"] += 1
        return {"quoteId": quote_id, "state": "accepted"}

    def _reject(self, quote_id: str, reason: str) -> dict[str, Any]:
        """A last-look rejection with its reason."""
        with self.lock:
            self.seen["rejected"] += 1
        return {"quoteId": quote_id, "state": "rejected", "rejectionReason": reason}

    def control(self) -> dict[str, Any]:
        """The maker's behaviour and counters (never its key)."""
        return {"pubkey": self.pubkey, "better_bps": str(self.better_bps), "delay_ms": self.delay_ms,
                "accept": self.accept, "seen": dict(self.seen)}


def handler(maker: Maker) -> type[BaseHTTPRequestHandler]:
    """The webhook's HTTP handler."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt: str, *args: Any) -> None:
            sys.stderr.write(f"maker: {self.command} {self.path} {args[1] if len(args) > 1 else ''}\n")

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _authorised(self) -> bool:
            if maker.api_key and self.headers.get("X-API-KEY") != maker.api_key:
                with maker.lock:
                    maker.seen["bad_key"] += 1
                self._send(401, {"message": "missing or wrong X-API-KEY"})
                return False
            return True

        def do_GET(self) -> None:
            if self.path.endswith("/control"):
                self._send(200, maker.control())
            elif self.path.endswith("/tokens") and self._authorised():
                self._send(200, sorted([SOL.mint, *QUOTES]))
            elif not self.path.endswith("/tokens"):
                self._send(404, {"message": "not found"})

        def do_POST(self) -> None:
            try:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            except ValueError:
                self._send(400, {"message": "malformed JSON"})
                return
            if self.path.endswith("/control"):
                maker.delay_ms = int(body.get("delay_ms", maker.delay_ms))
                maker.accept = bool(body.get("accept", maker.accept))
                maker.better_bps = Decimal(str(body.get("better_bps", maker.better_bps)))
                self._send(200, maker.control())
                return
            if not self._authorised():
                return
            if self.path.endswith("/quote"):
                time.sleep(maker.delay_ms / 1000)
                try:
                    self._send(*maker.quote(body))
                except (KeyError, ValueError, OSError) as exc:
                    self._send(400, {"message": f"cannot quote ({type(exc).__name__})"})
            elif self.path.endswith("/swap"):
                self._send(200, maker.swap(body))
            else:
                self._send(404, {"message": "not found"})

    return Handler


def main(argv: list[str]) -> int:
    """Serve the maker until interrupted."""
    p = argparse.ArgumentParser(prog="scripts/loopback_maker.py")
    p.add_argument("--port", type=int, default=5199)
    p.add_argument("--app", default="http://127.0.0.1:5104", help="the app, for its reference price")
    p.add_argument("--better-bps", type=Decimal, default=Decimal(30), help="price vs mid, positive = taker gets more")
    p.add_argument("--delay-ms", type=int, default=20)
    p.add_argument("--api-key", default=None, help="require this X-API-KEY")
    opts = p.parse_args(argv)
    maker = Maker(opts.app.rstrip("/"), opts.better_bps, opts.delay_ms, opts.api_key)
    server = ThreadingHTTPServer(("127.0.0.1", opts.port), handler(maker))
    print(f"loopback maker {maker.pubkey} on http://127.0.0.1:{opts.port}/jupiter/rfq", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
