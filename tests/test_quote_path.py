"""Rules of the quote path (issue 17): the allocation runs once per quote, and the split is exact on the orders that
were furthest from the brute-force optimum (a Jupiter leg stuck on a ladder rung, before the smoothed cut)."""
from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

import jupiter_api
from bench import routing
from core import allocator, orders, router
from core.allocator import Curve, allocate
from core.curves import VenueCurve
from core.tokens import SOL, USDC
from core.units import SwapMode
from ledger import pools
from ledger.inventory import pool_params
from models import OTCPool, db
from sim import dex
from sim.price import SimConfig
from sim.transport import SimTransport
from tests.conftest import build_app

SELL_25K = {"input": "SOL", "output": "USDC", "amount": "25000", "slippage_bps": 50}
GAP_MAX_BPS = Decimal("0.05")  # issue 17: within 0.05 bp of the brute-force optimum on every order
# Orders of bench/routing (seed 20260105) that were 0.08–0.12 bp from the optimum: Jupiter's leg sat on a rung.
WORST_ORDERS = (406, 360, 346, 253)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every call of the allocator, counted (the order's size each time)."""
    calls: list[int] = []
    real = allocator.allocate

    def counting(curves: list[Curve], total_atoms: int, **kwargs: Any) -> allocator.Allocation | None:
        calls.append(total_atoms)
        return real(curves, total_atoms, **kwargs)

    monkeypatch.setattr(allocator, "allocate", counting)
    return calls


def test_a_split_quote_allocates_once_through_its_firm_jupiter_re_decide(app: Flask, counted: list[int]) -> None:
    res = app.test_client().post("/api/v1/quotes", json=SELL_25K)
    assert res.status_code == 200, res.get_json()
    decision = res.get_json()["decision"]
    assert decision["venue"] == "split" and "jupiter" in {leg["venue"] for leg in decision["legs"]}
    assert counted == [25_000 * 10**9]  # decide and the firm re-decide share one cut


def test_a_quote_reads_the_simulated_pools_once_for_all_its_jupiter_calls_and_the_next_quote_again(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    book, reads, calls = app.extensions["sim_pools"], [], []
    read, answer = book.read, dex.quote_response
    monkeypatch.setattr(book, "read", lambda: reads.append(1) or read())
    monkeypatch.setattr(dex, "quote_response", lambda *a: calls.append(1) or answer(*a))
    res = app.test_client().post("/api/v1/quotes", json=SELL_25K)
    assert res.status_code == 200, res.get_json()
    assert "jupiter" in {leg["venue"] for leg in res.get_json()["decision"]["legs"]}
    assert len(calls) >= 2 and len(reads) == 1  # the full size, the ladder's rungs, the firm leg: one read
    assert app.test_client().post("/api/v1/quotes", json=SELL_25K).status_code == 200
    assert len(reads) == 2  # never kept past a quote: the state is the database's, shared by every worker


def test_a_pools_memoised_params_are_keyed_on_every_column_they_are_built_from(app: Flask) -> None:
    with app.app_context():
        row = db.session.scalar(db.select(OTCPool).where(OTCPool.name == "sol-usdc"))
        assert row is not None
        read: set[str] = set()

        class Recording:
            def __getattr__(self, name: str) -> Any:
                read.add(name)
                return getattr(row, name)

        assert pools.params_of(row) == pool_params(Recording())
        assert read <= set(pools.PARAM_COLUMNS)  # a column left out of the key would serve stale params
        row.base_spread_bps = row.base_spread_bps + 1  # an admin's edit is a new key: priced at once
        assert pools.params_of(row).base_spread_bps == pool_params(row).base_spread_bps
        db.session.rollback()


def _curves() -> list[VenueCurve]:
    """A concave Jupiter (price falling with size) and a pool that is flat up to its cap: a split between them."""
    jup = tuple((s * 10**9, s * 150 * 10**6 - s * s * 2_000) for s in (100, 400, 1_600, 6_400, 10_000))
    pool = tuple((s * 10**9, s * 14_985 * 10**4) for s in (500, 2_000, 4_000))
    return [VenueCurve("jupiter", jup, 1, 10_000 * 10**9, Decimal("1.2"), 800),
            VenueCurve("otc:sol-usdc", pool, 500 * 10**9, 4_000 * 10**9, Decimal(0), 1500)]


def test_a_re_decision_on_the_same_curves_reuses_the_cut_and_decides_the_same() -> None:
    order = orders.Order(SOL, USDC, 10_000 * 10**9, SwapMode.EXACT_IN)
    curves, mid = _curves(), Decimal(150)
    options = [router.priced_option(order, "jupiter", c.knots[-1][0], c.knots[-1][1], mid, risk_bps=c.risk_bps,
                                    delay_ms=c.delay_ms) for c in curves[:1]]
    plans = router.Plans()
    first = router.decide(order, options, curves, mid, plans=plans)
    again = router.decide(order, options, list(curves), mid, plans=plans)  # equal curves, another list
    assert plans.runs == 1 and first == again == router.decide(order, options, curves, mid)
    assert first.venue == "split"
    router.decide(order, options, curves[:1], mid, plans=plans)  # other curves: a cut of their own
    assert plans.runs == 2


def test_the_smoothed_cut_lands_between_knots_where_the_marginals_meet() -> None:
    # gain a: slope 10 then 6 (midpoints 50, 150); b: slope 9 then 8: the piecewise-linear optimum sits on the knots
    # (100, 100); the smoothed marginals 10 - (x - 50)/25 and 9 - (y - 50)/100 meet at a = 90, b = 110 (both 8.4).
    a = Curve("a", ((100, 1_000), (200, 1_600)), 1, 200)
    b = Curve("b", ((100, 900), (200, 1_700)), 1, 200)
    plain = allocate([a, b], 200, maximize=True)
    smooth = allocate([a, b], 200, maximize=True, smooth=frozenset({0, 1}))
    assert plain is not None and plain.sizes == (100, 100)
    assert smooth is not None and smooth.sizes == (90, 110)
    assert smooth.marginals == (Fraction(42, 5), Fraction(42, 5))
    assert smooth.gain == 1_000 * 90 // 100 + 900 + 8 * 10  # priced on the piecewise-linear model
    fixed = allocate([a, b], 200, maximize=True, smooth=frozenset({0}))  # a maker's firm points: not moved
    assert fixed is not None and fixed.sizes == plain.sizes


@pytest.fixture
def bench_app(tmp_path: Path) -> Iterator[tuple[Flask, jupiter_api.JupiterClient, list[float]]]:
    """The routing benchmark's setup: the simulated Jupiter on a clock the test moves, the default pools."""
    clock = [float(routing.T0_S)]
    client = jupiter_api.JupiterClient(SimTransport(SimConfig(), clock=lambda: clock[0]))
    app = build_app(f"sqlite:///{tmp_path / 'bench.db'}", JUPITER_CLIENT=client)
    yield app, client, clock


@pytest.mark.parametrize("index", WORST_ORDERS)
def test_the_worst_routing_orders_split_within_a_twentieth_of_a_bp_of_brute_force(
        bench_app: tuple[Flask, jupiter_api.JupiterClient, list[float]], index: int) -> None:
    app, client, clock = bench_app
    spec = routing.make_orders(routing.SEED, routing.ORDERS)[index]
    clock[0] = float(routing.T0_S + 37 * index)
    with app.app_context():
        row = routing.route_one(spec, routing.T0_S + 37 * index, client, brute=True)
    assert row is not None and row.legs == 2 and row.brute_gap_bps is not None
    assert row.brute_gap_bps <= GAP_MAX_BPS, (row.routed_legs, row.brute_jupiter_atoms)
