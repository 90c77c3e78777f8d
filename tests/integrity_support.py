"""Helpers of the execution-integrity tests: a scriptable Jupiter, pool set-up, load results and their invariants."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from flask import Flask
from sqlalchemy import func, select

import jupiter_api
import trade_logger
from core import orders, units
from core.tokens import SOL, USDC
from ledger import reconcile
from models import OTCPool, Trade, TradeLeg, db, utcnow
from services import quoting
from sim import dex
from sim.transport import SimTransport

SOL_USDC = "sol-usdc"


class ScriptedJupiter:
    """The simulated Jupiter, scriptable: `down` makes every quote fail, `out_factor` scales the amounts it pays."""

    def __init__(self, seed: int = 7, depth: str = "1") -> None:
        config = dex.SimConfig(seed=seed, depth_multiplier=Decimal(depth))
        self.inner = jupiter_api.make_client("sim", api_url="", api_key=None, timeout_s=1, rps=0,
                                             sim_transport=SimTransport(config, time.time))
        self.down = False
        self.out_factor = Decimal(1)
        self.calls = 0
        self._lock = threading.Lock()

    def quote(self, input_mint: str, output_mint: str, amount_atoms: int, slippage_bps: int,
              swap_mode: str = "ExactIn", **options: Any) -> jupiter_api.JupiterQuote:
        """The simulator's quote, scaled by out_factor (ExactIn output down, ExactOut input up), or an outage."""
        with self._lock:
            self.calls += 1
        if self.down:
            raise jupiter_api.UpstreamUnavailableError("simulated Jupiter outage", status=503)
        q = self.inner.quote(input_mint, output_mint, amount_atoms, slippage_bps, swap_mode, **options)
        if self.out_factor == 1:
            return q
        if swap_mode == "ExactIn":
            return replace(q, out_amount_atoms=int(q.out_amount_atoms * self.out_factor))
        return replace(q, in_amount_atoms=int(q.in_amount_atoms / self.out_factor) + 1)

    def __getattr__(self, name: str) -> Any:
        """Everything else (stats, limiter, breaker) is the inner client's."""
        return getattr(self.inner, name)


def set_pool(app: Flask, name: str = SOL_USDC, **values: Any) -> None:
    """Set pool columns before any trade; inventory given here also becomes its initial inventory (reconcile)."""
    with app.app_context():
        pool = db.session.scalar(select(OTCPool).where(OTCPool.name == name))
        for key, value in values.items():
            setattr(pool, key, value)
        if "base_atoms" in values:
            pool.initial_base_atoms = values["base_atoms"]
        if "quote_atoms" in values:
            pool.initial_quote_atoms = values["quote_atoms"]
        pool.inventory_at = utcnow()
        db.session.commit()


def pool_atoms(app: Flask, name: str = SOL_USDC) -> tuple[int, int]:
    """(base, quote) atoms a pool holds now."""
    with app.app_context():
        pool = db.session.scalar(select(OTCPool).where(OTCPool.name == name))
        return pool.base_atoms, pool.quote_atoms


def assert_reconciles(app: Flask) -> reconcile.Report:
    """reconcile.check() passes: every pool side = initial + replenished + received − paid, nothing negative."""
    with app.app_context():
        report = reconcile.check(utcnow())
        assert report.ok, "\n".join(reconcile.render(report))
        return report


@dataclass(frozen=True, slots=True)
class Outcome:
    """One request of a load run: its idempotency key, HTTP status and the trade id it reported."""

    key: str
    status: int
    trade_id: int | None
    body: dict[str, Any]


def outcome(key: str, status: int, body: dict[str, Any]) -> Outcome:
    """Read the trade id from a 201 trade or from an error's trade_id."""
    trade_id = body.get("id") if status in (200, 201) else (body.get("error") or {}).get("trade_id")
    return Outcome(key, status, trade_id, body)


def unscoped(key: str | None) -> str | None:
    """A stored idempotency key without its user namespace (`u<id>:`), as the client sent it."""
    return key.split(":", 1)[1] if key and key.startswith("u") and ":" in key else key


def assert_load_invariants(app: Flask, outcomes: list[Outcome], pool_name: str = SOL_USDC) -> dict[str, int]:
    """After a load run: one trade per request (none lost, none doubled), fills within inventory, reconcile holds."""
    assert all(o.status in (200, 201, 422, 503) for o in outcomes), {o.status for o in outcomes}
    ids = [o.trade_id for o in outcomes]
    assert None not in ids, [o.body for o in outcomes if o.trade_id is None][:3]
    assert len(set(ids)) == len(outcomes), "a trade was reported to two requests"
    with app.app_context():
        rows = {unscoped(t.idempotency_key): t for t in db.session.scalars(select(Trade))}
        assert {o.key for o in outcomes} <= rows.keys(), "a request's trade is missing"
        for o in outcomes:
            trade = rows[o.key]
            assert trade.id == o.trade_id
            if o.status in (200, 201):  # filled (a 200 is the replay of an earlier answer)
                assert trade.status == o.body["status"] == "filled", (trade.status, o.body["status"])
                assert str(trade.out_amount_atoms) == o.body["out_amount_atoms"]
            else:
                assert trade.status in ("rejected", "failed"), (o.status, trade.status)
        pool = db.session.scalar(select(OTCPool).where(OTCPool.name == pool_name))
        paid = db.session.scalar(
            select(func.coalesce(func.sum(TradeLeg.out_amount_atoms), 0)).join(Trade, Trade.id == TradeLeg.trade_id)
            .where(TradeLeg.pool_id == pool.id, Trade.status == "filled"))
        assert pool.base_atoms >= 0 and pool.quote_atoms >= 0
        held = pool.initial_quote_atoms + pool.replenished_quote_atoms
        assert int(paid) <= held, "the pool paid out more than it had"
    assert_reconciles(app)
    filled = sum(o.status in (200, 201) for o in outcomes)
    return {"requests": len(outcomes), "filled": filled, "refused": len(outcomes) - filled}


def trade_count(app: Flask) -> int:
    """Trades recorded, any status."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Trade))


def get_trade(app: Flask, trade_id: int) -> Trade:
    """A trade with its legs, detached for asserting."""
    with app.app_context():
        trade = db.session.get(Trade, trade_id)
        _ = trade.legs
        db.session.expunge(trade)
        return trade


def race(n: int, call) -> list:
    """Run call(i) on n threads released together; their results in thread order."""
    results: list = [None] * n
    start = threading.Barrier(n)

    def run(i: int) -> None:
        start.wait()
        results[i] = call(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def split_plan(app: Flask, key: str) -> trade_logger.FillPlan:
    """A hand-made plan of two legs: 1,000 SOL to the sol-usdc pool at its quote, 10 SOL to Jupiter."""
    order = quoting.parse_order({"input": "SOL", "output": "USDC", "amount": "1010"})
    with app.app_context():
        g = quoting.gather(app.extensions["market"], orders.Order(SOL, USDC, 1000 * 10**SOL.decimals))
        pool_id, otc = g.otc_quotes["otc:sol-usdc"]
        jq = app.extensions["market"].jupiter.quote(SOL.mint, USDC.mint, 10 * 10**SOL.decimals, 50)
    legs = (orders.Leg("otc:sol-usdc", otc.in_amount_atoms, otc.out_amount_atoms),
            orders.Leg("jupiter", jq.in_amount_atoms, jq.out_amount_atoms))
    out = otc.out_amount_atoms + jq.out_amount_atoms
    decision = orders.Decision(legs=legs, in_amount_atoms=order.amount_atoms, out_amount_atoms=out,
                               cost_bps=Decimal(0), min_out_amount_atoms=units.min_out(out, 50),
                               max_in_amount_atoms=None, jupiter_only_in_amount_atoms=None,
                               jupiter_only_out_amount_atoms=None, savings_atoms=None, savings_bps=None,
                               explanation="test split")
    fills = (trade_logger.LegFill("otc:sol-usdc", pool_id, SOL.mint, otc.in_amount_atoms, otc.out_amount_atoms),
             trade_logger.LegFill("jupiter", None, SOL.mint, jq.in_amount_atoms, jq.out_amount_atoms))
    return trade_logger.FillPlan(order=order, decision=decision, legs=fills, options=[], quoted_at=utcnow(),
                                 notional_usd_atoms=0, savings_usd_atoms=0, idempotency_key=key)
