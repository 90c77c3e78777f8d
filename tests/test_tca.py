"""Transaction-cost analysis: shortfall vs the arrival mid and its parts, savings by benchmark, markouts when due."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from math import ceil, floor

from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st

from cli import worker
from core import allocator, tca
from core.orders import Order
from core.tokens import SOL, USDC
from core.units import SwapMode
from ledger.tca_store import Decided, TradeTca, order_of
from models import Trade, db, utcnow
from services import tca as tca_service
from services.settings import Settings

MID = Decimal("150")
SELL_100 = Order(SOL, USDC, 100 * 10**9)  # worth 15,000 USDC at the mid
BUY_15K_USDC = Order(SOL, USDC, 15_000 * 10**6, SwapMode.EXACT_OUT)


def test_shortfall_is_output_short_of_the_arrival_value_rounded_up() -> None:
    atoms, bps = tca.shortfall(SELL_100, MID, 100 * 10**9, 14_985 * 10**6)
    assert atoms == 15 * 10**6 and bps == Decimal("10.0000")


def test_exact_out_shortfall_is_input_paid_above_the_arrival_value() -> None:
    atoms, bps = tca.shortfall(BUY_15K_USDC, MID, 100_100_000_000, 15_000 * 10**6)
    assert atoms == 100_000_000 and bps == Decimal("10.0000")


def test_a_fill_better_than_the_arrival_mid_has_negative_shortfall() -> None:
    assert tca.shortfall(SELL_100, MID, 100 * 10**9, 15_003 * 10**6) == (-3 * 10**6, Decimal("-2.0000"))


def test_dealer_legs_split_into_fees_and_spread_jupiter_legs_into_fees_and_impact() -> None:
    legs = [tca.LegCost("otc:sol-usdc", 50 * 10**9, 7_490 * 10**6, fee_atoms=1_500_000),
            tca.LegCost("jupiter", 50 * 10**9, 7_480 * 10**6, fee_share=Decimal("0.075"))]
    parts = tca.decided_components(SELL_100, MID, legs)
    # otc: 10 USDC short = 1.5 fee + 8.5 spread; jupiter: 20 USDC short = 1.5 fee (7.5 % of it) + 18.5 impact
    assert parts == {"fees": Decimal("2.0000"), "spread": Decimal("5.6667"), "impact": Decimal("12.3334")}


def test_the_four_components_add_up_to_the_shortfall_timing_being_the_rest() -> None:
    parts = tca.components(Decimal("21.0"), {"impact": Decimal("12.3"), "fees": Decimal("2"), "spread": Decimal("5.7")})
    assert parts["timing"] == Decimal("1.0") and sum(parts.values()) == Decimal("21.0")


def test_savings_vs_a_benchmark_round_down_and_need_one() -> None:
    saved = tca.savings_vs(SELL_100, 10**11, 14_990 * 10**6, (10**11, 14_900 * 10**6))
    assert saved == (90 * 10**6, Decimal("60.4026"))
    assert tca.savings_vs(SELL_100, 10**11, 14_990 * 10**6, None) is None


def test_a_markout_is_positive_when_the_price_moves_the_desks_way_after_the_fill() -> None:
    assert tca.markout_bps(SELL_100, MID, Decimal("149")) == Decimal("66.6666")  # sold, then SOL fell 1/150
    assert tca.markout_bps(SELL_100, MID, Decimal("151")) < 0  # sold, then SOL rose
    assert tca.markout_bps(BUY_15K_USDC, MID, Decimal("149")) > 0  # ExactOut: sold SOL for 15k USDC, then SOL fell


def _curve() -> allocator.Curve:
    """A constant-product-like curve of 100 SOL: out(x) = 15,000·x/(x + 1,000 SOL) USDC·(1000 SOL)/15000."""
    knots = tuple((x * 10**9, 150 * 10**6 * x * 1000 // (x + 1000)) for x in range(10, 101, 10))
    return allocator.Curve("jupiter", knots, 1, 100 * 10**9)


def test_a_twap_with_full_resilience_pays_the_impact_of_one_slice_only() -> None:
    one_shot = allocator.other_at(_curve(), 100 * 10**9)
    twap = tca.twap_fill(SELL_100, _curve(), 10, Fraction(0))
    assert twap is not None and twap[1] == 10 * allocator.other_at(_curve(), 10 * 10**9) > one_shot


def test_a_twap_without_resilience_costs_what_the_whole_order_costs() -> None:
    twap = tca.twap_fill(SELL_100, _curve(), 10, Fraction(1))
    assert twap is not None and twap[1] == allocator.other_at(_curve(), 100 * 10**9)


def _twap_by_definition(order: Order, curve: allocator.Curve, slices: int,
                        survive: Fraction) -> tuple[int, int] | None:
    """The TWAP of tca.twap_fill's docstring in plain Fractions: C(r+q) − C(r) per slice, r decaying by survive."""
    if slices < 1 or curve.knots[-1][0] < order.amount_atoms:
        return None

    def other(size: Fraction) -> Fraction:
        lo = floor(size)
        at_lo = allocator.other_at(curve, lo) if lo > 0 else Fraction(0)
        return at_lo if size == lo else at_lo + (allocator.other_at(curve, lo + 1) - at_lo) * (size - lo)

    base, extra = divmod(order.amount_atoms, slices)
    residual, total = Fraction(0), Fraction(0)
    for i in range(slices):
        q = base + (1 if i < extra else 0)
        start = min(residual, Fraction(order.amount_atoms - q))
        total += other(start + q) - other(start)
        residual = (start + q) * survive
    return (order.amount_atoms, ceil(total)) if order.exact_in else (floor(total), order.amount_atoms)


@settings(max_examples=300, deadline=None)
@given(steps=st.lists(st.tuples(st.integers(1, 10**12), st.integers(0, 10**12)), min_size=1, max_size=30),
       share=st.floats(0, 1), exact_in=st.booleans(), slices=st.integers(0, 24),
       interval_s=st.integers(0, 600), half_life_s=st.integers(0, 600))
def test_the_integer_twap_equals_its_definition_in_fractions(steps: list[tuple[int, int]], share: float,
                                                             exact_in: bool, slices: int, interval_s: int,
                                                             half_life_s: int) -> None:
    sizes, others, knots = 0, 0, []
    for ds, do in steps:
        sizes, others = sizes + ds, others + do
        knots.append((sizes, others))
    curve = allocator.Curve("jupiter", tuple(knots), 1, sizes)
    amount = max(1, int(sizes * share))
    order = Order(SOL, USDC, amount, SwapMode.EXACT_IN if exact_in else SwapMode.EXACT_OUT, 50)
    survive = tca.survive_fraction(interval_s, half_life_s)
    assert tca.twap_fill(order, curve, slices, survive) == _twap_by_definition(order, curve, slices, survive)


def test_impact_left_between_slices_halves_every_half_life() -> None:
    assert tca.survive_fraction(60, 60) == Fraction(1, 2) and tca.survive_fraction(60, 0) == 0


def test_decision_facts_round_trip_exactly_through_json() -> None:
    d = Decided(Decimal("139.497349777443048424"), Decimal("1.2345"), Decimal("2"), Decimal("0"),
                {"jupiter_one_shot": (1, 2), "best_single_venue": None, "twap": (3, 4)}, {"slices": 10})
    assert Decided.from_json(d.to_json()) == d


def _trade(client: FlaskClient, amount: str) -> dict:
    r = client.post("/api/v1/trades", json={"input": "SOL", "output": "USDC", "amount": amount})
    assert r.status_code == 201, r.json
    return r.json


def test_every_filled_trade_carries_tca_with_arrival_mid_shortfall_and_every_benchmark(client: FlaskClient) -> None:
    for amount in ("500", "25000"):
        t = _trade(client, amount)["tca"]
        assert Decimal(t["arrival_mid"]) > 0 and t["shortfall_bps"] is not None and int(t["shortfall_atoms"]) > 0
        assert set(t["components_bps"]) == {"impact", "fees", "spread", "timing"}
        assert sum(Decimal(v) for v in t["components_bps"].values()) - Decimal(t["shortfall_bps"]) < Decimal("0.3")
        assert set(t["savings_bps"]) == {"jupiter_one_shot", "best_single_venue", "twap"}
        assert all(v is not None for v in t["savings_bps"].values())
        assert t["markouts_bps"] == {"1s": None, "10s": None, "60s": None, "300s": None}
    listed = client.get("/api/v1/trades").json["trades"]
    assert all(x["tca"]["shortfall_bps"] is not None for x in listed)


def test_a_quote_filled_trade_is_measured_against_the_quotes_decision(client: FlaskClient) -> None:
    q = client.post("/api/v1/quotes", json={"input": "SOL", "output": "USDC", "amount": "25000"}).json
    t = client.post("/api/v1/trades", json={"quote_id": q["quote_id"]}).json
    # the quote's mid, not the fill's (SQLite keeps about 16 significant digits of a NUMERIC)
    assert abs(Decimal(t["tca"]["arrival_mid"]) - Decimal(q["mid_price"])) < Decimal("1e-12")
    assert t["tca"]["savings_bps"]["twap"] is not None


def test_savings_vs_best_single_venue_are_zero_for_a_single_venue_fill_and_positive_for_a_split(
        client: FlaskClient) -> None:
    small, split = _trade(client, "500"), _trade(client, "25000")
    # a single-venue fill saves nothing against itself but what moved between decision and fill (timing); each is
    # rounded to 0.1 bps and they have different bases (benchmark value, arrival notional): equal within that
    saved, timing = (Decimal(small["tca"]["savings_bps"]["best_single_venue"]),
                     Decimal(small["tca"]["components_bps"]["timing"]))
    assert small["venue"] != "split" and abs(saved + timing) <= Decimal("0.1") + abs(timing) / 50
    assert split["venue"] == "split" and Decimal(split["tca"]["savings_bps"]["best_single_venue"]) > 0


def test_markouts_fill_in_when_due_on_a_controlled_clock(app: Flask, client: FlaskClient) -> None:
    trade_id = _trade(client, "1000")["id"]
    market = app.extensions["market"]
    with app.app_context():
        trade = db.session.get(Trade, trade_id)
        filled = trade.executed_at
        assert tca_service.markouts(market, filled + timedelta(milliseconds=500)) == 0
        assert tca_service.markouts(market, filled + timedelta(seconds=10)) == 1
        row = db.session.get(TradeTca, trade_id)
        assert row.markout_1s_bps is not None and row.markout_10s_bps is not None and row.markout_60s_bps is None
        assert row.markouts_due_at == filled + timedelta(seconds=60)
        assert tca_service.markouts(market, filled + timedelta(seconds=299)) == 1
        assert row.markout_300s_bps is None
        assert tca_service.markouts(market, filled + timedelta(seconds=300)) == 1
        assert row.markouts_due_at is None and tca_service.markouts(market, filled + timedelta(hours=1)) == 0
        order = order_of(trade)
        later = market.mid_price(order.input_token, order.output_token, filled.timestamp() + 300)
        assert row.markout_300s_bps == tca.markout_bps(order, row.arrival_mid, later)
    shown = client.get(f"/api/v1/trades/{trade_id}").json["tca"]["markouts_bps"]
    assert all(shown[k] is not None for k in ("1s", "10s", "60s", "300s"))


def test_the_worker_tick_computes_due_markouts(app: Flask, client: FlaskClient) -> None:
    trade_id = _trade(client, "100")["id"]
    with app.app_context():
        row = db.session.get(TradeTca, trade_id)
        row.filled_at -= timedelta(seconds=400)
        row.markouts_due_at -= timedelta(seconds=400)
        db.session.commit()
    worker.tick(app)
    with app.app_context():
        assert db.session.get(TradeTca, trade_id).markout_300s_bps is not None


def test_the_twap_benchmark_follows_its_settings() -> None:
    assert Settings.from_config({"TCA_TWAP_SLICES": "4", "TCA_TWAP_HORIZON_S": "120"}).tca_twap_slices == 4


def test_analytics_default_to_savings_vs_best_single_venue_and_name_their_benchmark(
        app: Flask, client: FlaskClient) -> None:
    for amount in ("500", "25000", "3000"):
        _trade(client, amount)
    with app.app_context():
        tca_service.markouts(app.extensions["market"], utcnow() + timedelta(seconds=301))
    default = client.get("/api/v1/analytics/charts").json
    assert default["benchmark"] == "best_single_venue"
    kpis = default["tca"]["kpis"]
    assert kpis["trades"] == 3 and set(kpis["savings"]) == {"jupiter_one_shot", "best_single_venue", "twap"}
    assert default["savings"][-1]["cumulative_savings_usd_atoms"] == kpis["savings"]["best_single_venue"]["usd_atoms"]
    one_shot = client.get("/api/v1/analytics/charts?benchmark=jupiter_one_shot").json
    assert int(one_shot["savings"][-1]["cumulative_savings_usd_atoms"]) > int(kpis["savings"][
        "best_single_venue"]["usd_atoms"])
    assert client.get("/api/v1/analytics/charts?benchmark=vwap").status_code == 400
    sizes = default["tca"]["shortfall_by_size"]
    assert sum(b["trades"] for b in sizes) == 3 and any(b["shortfall_bps"] for b in sizes)
    marks = default["tca"]["markouts_by_venue"]
    assert marks["horizons"] == ["1s", "10s", "60s", "300s"] and sum(v["trades"] for v in marks["venues"]) == 3
    page = client.get("/analytics").get_data(as_text=True)
    assert "Saved vs best single venue" in page and 'id="chart-shortfall"' in page and 'id="chart-markouts"' in page
    assert "Saved vs TWAP" in client.get("/analytics?benchmark=twap").get_data(as_text=True)


def test_the_trade_page_shows_its_tca(client: FlaskClient) -> None:
    trade_id = _trade(client, "25000")["id"]
    page = client.get(f"/trades/{trade_id}").get_data(as_text=True)
    assert 'id="tca-card"' in page and "Transaction-cost analysis" in page and 'data-benchmark="twap"' in page


def test_tca_is_the_same_on_postgresql(pg_app: Flask) -> None:
    client = pg_app.test_client()
    t = _trade(client, "25000")
    assert t["tca"]["shortfall_bps"] is not None and t["tca"]["savings_bps"]["twap"] is not None
    with pg_app.app_context():
        assert tca_service.markouts(pg_app.extensions["market"], utcnow() + timedelta(seconds=301)) == 1
    assert client.get(f"/api/v1/trades/{t['id']}").json["tca"]["markouts_bps"]["300s"] is not None
    assert client.get("/api/v1/analytics/charts").json["tca"]["kpis"]["trades"] == 1
