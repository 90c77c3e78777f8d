"""Liquidity is never oversold under load: 16 threads race for one OTC pool (16×50 trades on PostgreSQL, 16×30 SQLite).

The pool holds about a third of what the traders ask for and Jupiter is down, so every trade wants the same
inventory: the apply step must hand it out exactly once. Afterwards: each request has exactly one trade (none lost,
none doubled), the pool never paid out more than it held, and inventory reconciles with the trade records.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, text

import trade_logger
from core import orders
from core.desk_pools import DEFAULT_POOLS
from core.tokens import SOL, USDC
from models import OTCPool, db, utcnow
from services import seed
from tests.conftest import build_app
from tests.integrity_support import (
    Outcome,
    ScriptedJupiter,
    assert_load_invariants,
    assert_reconciles,
    outcome,
    set_pool,
)

THREADS, TRADE_SOL = 16, 250
TRADES_PER_THREAD = {"postgresql": 50, "sqlite": 30}  # SQLite serialises all writers: fewer, to keep CI quick
DEMAND_COVERED = Decimal(1) / 3  # the pool's USDC covers a third of all the trades' payouts at mid


@pytest.fixture(params=["postgresql", "sqlite"])
def load_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    """One SOL/USDC pool holding a third of the demand (replenishing fast), Jupiter down."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else f"sqlite:///{tmp_path / 'load.db'}"
    jupiter = ScriptedJupiter()
    jupiter.down = True
    app = build_app(url, JUPITER_CLIENT=jupiter, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": THREADS + 4})
    with app.app_context():
        mid = app.extensions["market"].mid_price(SOL, USDC)
    demand_usdc_atoms = int(THREADS * TRADES_PER_THREAD[request.param] * TRADE_SOL * mid * 10**USDC.decimals)
    set_pool(app, quote_atoms=int(demand_usdc_atoms * DEMAND_COVERED), replenish_pct_per_hour=Decimal(360))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def hammer(app: Flask, threads: int, per_thread: int, body: dict[str, object]) -> list[Outcome]:
    """`threads` clients start together and each POSTs `per_thread` trades with its own idempotency keys."""
    outcomes: list[Outcome] = []
    lock, start = threading.Lock(), threading.Barrier(threads)

    def trader(n: int) -> None:
        client = app.test_client()
        start.wait()
        for i in range(per_thread):
            key = f"load-{n}-{i}"
            res = client.post("/api/v1/trades", json=body, headers={"Idempotency-Key": key})
            with lock:
                outcomes.append(outcome(key, res.status_code, res.get_json()))

    workers = [threading.Thread(target=trader, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert not any(w.is_alive() for w in workers), "a trader thread hung"
    return outcomes


@pytest.mark.pg
@pytest.mark.slow
def test_many_traders_racing_for_one_pool_never_oversell_it(load_app: Flask, capsys: pytest.CaptureFixture) -> None:
    backend = load_app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0]
    per_thread = TRADES_PER_THREAD[backend]
    started = time.perf_counter()
    body = {"input": "SOL", "output": "USDC", "amount": str(TRADE_SOL)}
    outcomes = hammer(load_app, THREADS, per_thread, body)
    elapsed = time.perf_counter() - started
    counts = assert_load_invariants(load_app, outcomes)
    assert counts["filled"] > 0 and counts["refused"] > 0, counts  # demand really exceeded inventory
    refusals = {o.body["error"]["code"] for o in outcomes if o.status != 201}
    assert refusals <= {"INSUFFICIENT_LIQUIDITY", "VENUE_UNAVAILABLE", "NO_ROUTE"}, refusals
    with capsys.disabled():
        print(f"\n[load {backend}] {THREADS}x{per_thread} "
              f"trades of {TRADE_SOL} SOL in {elapsed:.1f} s: {counts}, refusals {sorted(refusals)}")


def two_pool_plan(pool_ids: list[int], key: str, reverse: bool) -> trade_logger.FillPlan:
    """A 20 SOL sell split 10/10 over two SOL/USDC pools, its legs listed in either order."""
    legs = [trade_logger.LegFill(f"otc:{name}", pool_id, SOL.mint, 10 * 10**SOL.decimals, 1_000 * 10**USDC.decimals)
            for name, pool_id in zip(("sol-usdc", "sol-usdc-b"), pool_ids, strict=True)]
    legs = legs[::-1] if reverse else legs
    decision = orders.Decision(
        legs=tuple(orders.Leg(leg.venue, leg.in_amount_atoms, leg.out_amount_atoms) for leg in legs),
        in_amount_atoms=20 * 10**SOL.decimals, out_amount_atoms=2_000 * 10**USDC.decimals, cost_bps=Decimal(0),
        min_out_amount_atoms=None, max_in_amount_atoms=None, jupiter_only_in_amount_atoms=None,
        jupiter_only_out_amount_atoms=None, savings_atoms=None, savings_bps=None, explanation="two pools")
    return trade_logger.FillPlan(order=orders.Order(SOL, USDC, 20 * 10**SOL.decimals), decision=decision,
                                 legs=tuple(legs), options=[], quoted_at=utcnow(), notional_usd_atoms=0,
                                 savings_usd_atoms=0, idempotency_key=key)


def deadlocks(app: Flask) -> int:
    """PostgreSQL's count of deadlocks detected in this database so far."""
    with app.app_context():
        db.session.execute(text("SELECT pg_stat_clear_snapshot()"))
        return db.session.scalar(text("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"))


@pytest.mark.pg
def test_split_trades_locking_two_pools_in_either_order_never_deadlock(pg_url: str) -> None:
    app = build_app(pg_url, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 12})
    with app.app_context():
        db.session.add(seed.pool_row(replace(DEFAULT_POOLS[0], name="sol-usdc-b")))
        db.session.commit()
        pool_ids = [db.session.scalar(select(OTCPool.id).where(OTCPool.name == n)) for n in ("sol-usdc", "sol-usdc-b")]
    before = deadlocks(app)

    def trader(n: int) -> list[str]:
        with app.app_context():
            return [trade_logger.record_fill(two_pool_plan(pool_ids, f"dl-{n}-{i}", reverse=(n + i) % 2 == 1),
                                             utcnow()).status for i in range(8)]

    with ThreadPoolExecutor(8) as pool:
        statuses = [s for batch in pool.map(trader, range(8)) for s in batch]
    assert statuses == ["filled"] * 64
    time.sleep(0.6)  # statistics reach pg_stat_database within PGSTAT_MIN_INTERVAL (0.5 s)
    assert deadlocks(app) == before, "two split trades deadlocked (and were retried)"
    assert_reconciles(app)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
