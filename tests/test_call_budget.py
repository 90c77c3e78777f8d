"""Every call counts: a warm quote costs at most two Jupiter calls (the full size, the firm leg of a split)."""
from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

import jupiter_api
from cli import worker
from core import ladder as core_ladder
from core.orders import Order
from core.tokens import SOL, USDC
from core.units import SwapMode
from models import db
from services import ladder
from services.settings import TIER_RPS, jupiter_rps
from sim.price import SimConfig
from sim.transport import SimTransport
from tests.conftest import build_app


class Counting(jupiter_api.JupiterClient):
    """The simulated Jupiter client, counting quote calls."""

    def __init__(self) -> None:
        super().__init__(SimTransport(SimConfig(), time.time))
        self.quotes = 0

    def quote(self, *args: Any, **kwargs: Any) -> jupiter_api.JupiterQuote:
        self.quotes += 1
        return super().quote(*args, **kwargs)


@pytest.fixture
def counted(tmp_path: Path) -> Iterator[tuple[Flask, Counting]]:
    client = Counting()
    app = build_app(f"sqlite:///{tmp_path / 'c.db'}", JUPITER_CLIENT=client)
    yield app, client
    with app.app_context():
        db.engine.dispose()


SIZES = ["25000", "12500", "40000", "3000", "800", "150000", "9000", "31000", "10"]


def test_warm_quotes_of_assorted_sizes_cost_at_most_two_jupiter_calls(counted: tuple[Flask, Counting]) -> None:
    app, jupiter = counted
    http = app.test_client()
    for size in SIZES:  # cold: the first order of a size range fetches its ladder rungs once
        assert http.post("/api/v1/quotes", json={"input": "SOL", "output": "USDC", "amount": size}).status_code == 200
    per_quote, splits = [], 0
    for size in [*SIZES, "26000", "11000", "2800"]:
        before = jupiter.quotes
        body = http.post("/api/v1/quotes", json={"input": "SOL", "output": "USDC", "amount": size}).get_json()
        per_quote.append(jupiter.quotes - before)
        splits += len(body["decision"]["legs"]) > 1 and any(
            leg["venue"] == "jupiter" for leg in body["decision"]["legs"])
    assert max(per_quote) <= 2, per_quote
    assert splits >= 1  # the split survives: the ladder gives Jupiter's curve its shape


def test_the_ladder_curve_is_exact_at_the_order_and_follows_the_rungs_below() -> None:
    order = Order(SOL, USDC, 1_000 * 10**9, SwapMode.EXACT_IN, 50)
    mid = Decimal(150)
    rungs = {size: Decimal(size) / 10**11 for size in core_ladder.rung_sizes(order)}  # 1 bp per 100 SOL
    assert min(rungs) >= order.amount_atoms // 64 and max(rungs) < order.amount_atoms
    assert len(rungs) == 6 * core_ladder.STEPS  # six doublings below the order, STEPS rungs each
    full_other = core_ladder.other_atoms(order, order.amount_atoms, Decimal("12"), mid)  # 12 bps at the order
    knots = core_ladder.knots(order, rungs, full_other, mid, {1024 * 10**9: Decimal("10.24")})
    assert knots[-1] == (order.amount_atoms, full_other)
    assert [s for s, _ in knots[:-1]] == sorted(rungs)
    lo = max(rungs)
    shift = Decimal(12) - (rungs[lo] + (Decimal("10.24") - rungs[lo]) * (
        (Decimal(order.amount_atoms).ln() - Decimal(lo).ln()) / (Decimal(1024 * 10**9).ln() - Decimal(lo).ln())))
    for size, other in knots[:-1]:
        expected = core_ladder.other_atoms(order, size, rungs[size] + shift, mid)
        assert other == expected


def test_the_workers_jobs_refresh_stale_rungs_within_their_budget(counted: tuple[Flask, Counting]) -> None:
    app, jupiter = counted
    app.test_client().post("/api/v1/quotes", json={"input": "SOL", "output": "USDC", "amount": "25000"})
    market = app.extensions["market"]
    with app.app_context():
        assert ladder.refresh(market, time.time(), budget=10) == 0  # nothing stale yet
        before = jupiter.quotes
        made = ladder.refresh(market, time.time() + market.settings.ladder_refresh_s + 1, budget=3)
    assert made == 3 and jupiter.quotes - before == 3
    worker.throttle(app)  # the tick runs the same refresh
    assert worker.tick(app) is None  # no snapshot is due under TESTING, the ladder step still ran without error


@pytest.mark.parametrize(("tier", "rps"), list(TIER_RPS.items()))
def test_the_tier_sets_the_rate_and_jupiter_rps_overrides_it(tier: str, rps: float) -> None:
    assert jupiter_rps({"JUPITER_TIER": tier}) == rps
    assert jupiter_rps({"JUPITER_TIER": tier, "JUPITER_RPS": 3}) == 3


def test_the_default_tier_is_keyless_safe_and_an_unknown_tier_is_refused() -> None:
    assert jupiter_rps({}) == 0.5
    with pytest.raises(ValueError, match="JUPITER_TIER"):
        jupiter_rps({"JUPITER_TIER": "gold"})
