"""Simulated RFQ market makers speaking Jupiter Z's webhook format, priced by the dealer engine (otc_engine).

Each maker has its own pools (one per pair) and in-memory inventory (per process), a keypair of its name (its
quotes' `maker` is that pubkey), remembers the quotes it gave for last look and checks the fill transaction a swap
carries (sim/rfq_fill_check.py: paid by it, signed by the taker, exactly the quoted terms; the documented
placeholder naming the quote is accepted from a desk without chain access). Configurable behaviours for tests and
demos: latency with jitter, a last-look reject rate, stale quotes (priced at an old reference mid), occasional
garbage, a price offset and a down switch. Random draws are pure functions of the quote id, so a run replays; the
clock, the sleep and the lock are given by the composition root (app.py), so this module reads no clock itself.
"""
from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

import otc_engine
from core import tokens
from core.rfq_fill import FillTerms
from core.units import BPS, SwapMode
from sim.price import SimConfig, reference_price
from sim.rfq_fill_check import check_fill, maker_keypair

QUOTE_TYPES = {"exactin": SwapMode.EXACT_IN, "exactout": SwapMode.EXACT_OUT}
REJECT_REASONS = ("insufficientBalance", "botActivityDetected", "price moved beyond the maker's tolerance")


@dataclass(frozen=True, slots=True)
class Behaviour:
    """How a simulated maker misbehaves: latency (ms), reject/stale/garbage shares (%), price offset (bps), down."""

    latency_ms: int = 25
    jitter_ms: int = 15
    reject_pct: Decimal = Decimal(0)
    stale_pct: Decimal = Decimal(0)
    stale_age_s: int = 900
    garbage_pct: Decimal = Decimal(0)
    price_offset_bps: Decimal = Decimal(0)  # positive: better for the taker than the maker's engine would quote
    down: bool = False

    @classmethod
    def of(cls, data: Mapping[str, Any] | None) -> Behaviour:
        """A behaviour from a JSON mapping (unknown keys ignored); ValueError on a bad value."""
        out: dict[str, Any] = {}
        for f in fields(cls):
            if not data or f.name not in data:
                continue
            value = data[f.name]
            if f.type == "bool":
                out[f.name] = bool(value)
            elif f.type == "int":
                out[f.name] = int(value)
            else:
                out[f.name] = Decimal(str(value))
        b = cls(**out)
        if b.latency_ms < 0 or b.jitter_ms < 0 or b.stale_age_s < 0:
            raise ValueError("latency_ms, jitter_ms and stale_age_s must not be negative")
        if not all(0 <= p <= 100 for p in (b.reject_pct, b.stale_pct, b.garbage_pct)):
            raise ValueError("reject_pct, stale_pct and garbage_pct must be between 0 and 100")
        return b


def _pool(maker: str, quote: tokens.Token, base_bps: int, size_bps: int, max_sol: int, target_sol: int) -> \
        otc_engine.PoolParams:
    """A SOL/stablecoin book of a simulated maker (no fee: Jupiter Z makers quote net)."""
    sol = tokens.SOL
    return otc_engine.PoolParams(
        name=f"{maker}-sol-{quote.symbol.lower()}", base_mint=sol.mint, quote_mint=quote.mint,
        base_decimals=sol.decimals, quote_decimals=quote.decimals, base_spread_bps=Decimal(base_bps),
        size_spread_bps=Decimal(size_bps), size_exponent=Decimal("1.5"), annual_vol_pct=Decimal(80),
        vol_z=Decimal(1), fee_bps=Decimal(0), min_trade_base_atoms=10**sol.decimals,
        max_trade_base_atoms=max_sol * 10**sol.decimals, target_base_atoms=target_sol * 10**sol.decimals,
        target_quote_atoms=target_sol * 150 * 10**quote.decimals, replenish_pct_per_hour=Decimal(20),
        execution_delay_ms=0, delay_jitter_ms=0, quote_ttl_ms=35_000)


def books_of(maker: str) -> tuple[otc_engine.PoolParams, ...]:
    """A maker's books: `beta*` names quote wider but deeper, every other name like `alpha`."""
    if maker.startswith("beta"):
        return (_pool(maker, tokens.USDC, 4, 30, 60_000, 120_000), _pool(maker, tokens.USDT, 6, 40, 40_000, 80_000))
    return (_pool(maker, tokens.USDC, 2, 45, 30_000, 60_000), _pool(maker, tokens.USDT, 3, 50, 20_000, 40_000))


def _draw(quote_id: str, what: str) -> Decimal:
    """A uniform draw in [0, 100) that is a pure function of (quote id, what)."""
    digest = hashlib.blake2b(f"{quote_id}:{what}".encode(), digest_size=8).digest()
    return Decimal(int.from_bytes(digest, "big") % 1_000_000) / 10_000


def _message(status: int, text: str) -> tuple[int, str]:
    """An error answer in the toolkit's {message} shape."""
    return status, json.dumps({"message": text})


class SimMakerBook:
    """Every simulated maker of this process: inventory per book and the quotes given, behind one lock."""

    def __init__(self, config: SimConfig, clock: Callable[[], float], sleep: Callable[[float], None],
                 lock: AbstractContextManager[Any]) -> None:
        self.config, self.clock, self.sleep = config, clock, sleep
        self._lock = lock
        self._inventory: dict[str, otc_engine.Inventory] = {}
        self._given: dict[str, tuple[str, otc_engine.OtcQuote, str]] = {}  # quoteId -> (book, quote, taker)

    def _inv(self, params: otc_engine.PoolParams, now: datetime) -> otc_engine.Inventory:
        """A book's inventory now (replenished), starting full (call under the lock)."""
        inv = self._inventory.get(params.name) or otc_engine.Inventory(
            params.target_base_atoms, params.target_quote_atoms, now)
        inv = otc_engine.replenish(params, inv, now)
        self._inventory[params.name] = inv
        return inv

    def answer(self, maker: str, behaviour: Behaviour, method: str, path: str, body: Any,
               now_s: float | None = None) -> tuple[int, str]:
        """The maker's (HTTP status, JSON text) for one webhook call, after its simulated latency."""
        quote_id = str(body.get("quoteId", "")) if isinstance(body, dict) else ""
        delay_ms = behaviour.latency_ms + int(_draw(quote_id or path, "jitter") * behaviour.jitter_ms / 100)
        if delay_ms:
            self.sleep(delay_ms / 1000)
        if behaviour.down:
            return _message(503, "maker offline")
        now_s = self.clock() if now_s is None else now_s
        if method == "GET" and path == "/tokens":
            return 200, json.dumps(sorted({m for p in books_of(maker) for m in (p.base_mint, p.quote_mint)}))
        if method != "POST" or path not in ("/quote", "/swap") or not isinstance(body, dict):
            return _message(400, "expected POST /quote or /swap with a JSON body")
        if path == "/swap":
            return self._swap(maker, behaviour, body, now_s)
        return self._quote(maker, behaviour, body, now_s)

    def _quote(self, maker: str, b: Behaviour, body: dict[str, Any], now_s: float) -> tuple[int, str]:
        """POST /quote: price the request with the maker's engine, or 404 when it will not quote."""
        try:
            request_id, quote_id = str(body["requestId"]), str(body["quoteId"])
            token_in, token_out, amount = str(body["tokenIn"]), str(body["tokenOut"]), int(str(body["amount"]))
            mode = QUOTE_TYPES[str(body["quoteType"]).lower()]
        except (KeyError, ValueError):
            return _message(400, "malformed quote request")
        if _draw(quote_id, "garbage") < b.garbage_pct:
            return 200, '{"requestId": "' + request_id + '", "amountOut": 12.5'  # truncated, numbers not strings
        params = next((p for p in books_of(maker) if {p.base_mint, p.quote_mint} == {token_in, token_out}), None)
        if params is None:
            return _message(404, "pair not quoted")
        stale = _draw(quote_id, "stale") < b.stale_pct
        mid = reference_price(params.base_mint, params.quote_mint, now_s - (b.stale_age_s if stale else 0),
                              self.config)
        sells_base = token_in == params.base_mint
        mid *= (1 + b.price_offset_bps / BPS) if sells_base else (1 - b.price_offset_bps / BPS)
        now = datetime.fromtimestamp(now_s, UTC)
        with self._lock:
            q = otc_engine.quote_pool(params, self._inv(params, now), mid, token_in, token_out, amount, mode, now)
            if isinstance(q, otc_engine.OtcRefusal):
                return _message(404, q.reason)
            self._forget_expired(now)
            self._given[quote_id] = (params.name, q, str(body.get("taker") or ""))
        return 200, json.dumps({"requestId": request_id, "quoteId": quote_id, "tokenIn": token_in,
                                "amountIn": str(q.in_amount_atoms), "tokenOut": token_out,
                                "amountOut": str(q.out_amount_atoms), "quoteType": body["quoteType"],
                                "protocol": "v1", "maker": maker_pubkey(maker), **(
                                    {"taker": body["taker"]} if body.get("taker") else {})})

    def _swap(self, maker: str, b: Behaviour, body: dict[str, Any], now_s: float) -> tuple[int, str]:
        """POST /swap: last look on a quote this maker gave; accepted moves its inventory, once."""
        quote_id = str(body.get("quoteId", ""))
        if not body.get("requestId") or not body.get("transaction"):
            return _message(400, "malformed swap request")
        now = datetime.fromtimestamp(now_s, UTC)

        def rejected(reason: str) -> tuple[int, str]:
            return 200, json.dumps({"quoteId": quote_id, "state": "rejected", "rejectionReason": reason})

        with self._lock:
            given = self._given.pop(quote_id, None)
            if given is None:
                return rejected("unknown or already used quote")
            book, q, taker = given
            if now >= q.expires_at:
                return rejected("quote expired")
            wrong = _wrong_transaction(str(body["transaction"]), quote_id, FillTerms(
                taker, maker_pubkey(maker), q.input_mint, q.output_mint, q.in_amount_atoms, q.out_amount_atoms, 0),
                now_s)
            if wrong:
                return rejected(f"invalid transaction: {wrong}")
            draw = _draw(quote_id, "reject")
            if draw < b.reject_pct:
                return rejected(REJECT_REASONS[int(draw) % len(REJECT_REASONS)])
            params = next(p for p in books_of(maker) if p.name == book)
            inv = self._inv(params, now)
            if otc_engine.payout_available(params, inv, q.output_mint) < q.out_amount_atoms:
                return rejected("insufficientBalance")
            self._inventory[book] = otc_engine.apply_fill(inv, q)
        return 200, json.dumps({"quoteId": quote_id, "state": "accepted"})

    def _forget_expired(self, now: datetime) -> None:
        """Drop remembered quotes past their TTL (call under the lock); keeps the memory bounded."""
        if len(self._given) < 5_000:
            return
        cutoff = now - timedelta(seconds=1)
        self._given = {k: v for k, v in self._given.items() if v[1].expires_at > cutoff}


@lru_cache(maxsize=64)
def maker_pubkey(maker: str) -> str:
    """A simulated maker's public key (base58), from its name."""
    return str(maker_keypair(maker).pubkey())


def _wrong_transaction(transaction: str, quote_id: str, expected: FillTerms, now_s: float) -> str | None:
    """Why a swap's transaction is not this quote's fill; the placeholder naming this quote passes (no chain)."""
    try:
        note = json.loads(base64.b64decode(transaction, validate=True))
    except ValueError:
        note = None
    if isinstance(note, dict) and "placeholder" in note:
        return None if note.get("quoteId") == quote_id else "the placeholder names another quote"
    return check_fill(transaction, expected, now_s)
