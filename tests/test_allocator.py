"""Rules of the split allocation: exact integer legs, bounds respected, and never worse than brute force.

Stated tolerances: on the allocator's own piecewise-linear model the result is exact (tolerance 0 against every
integer split); end to end on true concave venues (an OTC pool priced by its engine and a constant-product Jupiter
sampled at a few sizes, as in production) the split is never worse than the best single venue and never worse than
a brute-force search over a fine grid (1/200 of the order) by more than SPLIT_TOLERANCE_BPS of the order's value:
the gap comes from sampling Jupiter at no more than 8 sizes (the sampled curve is conservative).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from itertools import product

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import otc_engine
from core import allocator, orders, router
from core.allocator import Curve, allocate, gain_curve
from core.tokens import SOL, USDC
from core.units import SwapMode
from services import cost_curves

SPLIT_TOLERANCE_BPS = Fraction(1, 4)  # of the order's value at mid; worst seen in 300 random cases: 0.11 bps
MID = Decimal(150)
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def test_one_cheaper_linear_venue_takes_the_whole_order() -> None:
    cheap = Curve("a", ((1000, 990),), 1, 1000)
    dear = Curve("b", ((1000, 980),), 1, 1000)
    found = allocate([dear, cheap], 600, maximize=True)
    assert found is not None and found.sizes == (0, 600) and found.gain == 594


def test_concave_venues_split_where_marginal_gains_meet() -> None:
    a = Curve("a", ((100, 100), (200, 180), (300, 240)), 1, 300)  # slopes 1.0, 0.8, 0.6
    b = Curve("b", ((100, 90), (200, 160), (300, 210)), 1, 300)  # slopes 0.9, 0.7, 0.5
    found = allocate([a, b], 300, maximize=True)
    assert found is not None and found.sizes == (200, 100)  # 1.0, 0.9, 0.8 are the best three slices
    assert found.gain == 270 and found.marginals == (Fraction(4, 5), Fraction(9, 10))


def test_legs_respect_min_max_and_the_minimum_leg() -> None:
    a = Curve("a", ((1000, 1000),), 400, 1000)  # cheapest, but may not trade below 400
    b = Curve("b", ((1000, 900),), 1, 250)
    c = Curve("c", ((1000, 800),), 1, 1000)
    found = allocate([a, b, c], 300, maximize=True, min_leg_atoms=60)
    assert found is not None and found.sizes == (0, 240, 60)  # c's leg is lifted to the 60-atom minimum
    assert allocate([a], 300, maximize=True) is None


def test_exact_out_minimises_what_is_paid() -> None:
    a = Curve("a", ((100, 110), (200, 240)), 1, 200)  # input paid for output: 1.1 then 1.3 per atom
    b = Curve("b", ((100, 120), (200, 250)), 1, 200)  # 1.2 then 1.3
    found = allocate([a, b], 200, maximize=False)
    assert found is not None and found.sizes == (100, 100) and found.gain == -230


def test_the_gain_curve_never_exceeds_its_samples() -> None:
    bumpy = Curve("j", ((10, 10), (20, 15), (30, 22), (40, 25)), 1, 40)  # slope 0.5 then 0.7: not concave
    g = gain_curve(bumpy, True, 1, 40)
    for size, other in bumpy.knots:
        assert g.at(size) <= other
    assert [s for s, _ in g.segments()] == sorted((s for s, _ in g.segments()), reverse=True)


@st.composite
def instances(draw: st.DrawFn) -> tuple[list[Curve], int, bool, int]:
    """2 or 3 small random concave curves (sometimes with a kink), a total, a sense and a minimum leg."""
    curves = []
    for i in range(draw(st.integers(2, 3))):
        steps = draw(st.lists(st.integers(1, 40), min_size=1, max_size=4))
        slopes = sorted(draw(st.lists(st.integers(1, 50), min_size=len(steps), max_size=len(steps))), reverse=True)
        if draw(st.booleans()):
            slopes = draw(st.permutations(slopes))  # not concave: the allocator must stay safe
        knots, size, other = [], 0, 0
        for step, slope in zip(steps, slopes, strict=True):
            size, other = size + step, other + step * slope
            knots.append((size, other))
        lo = draw(st.integers(1, size))
        hi = draw(st.integers(lo, size))
        curves.append(Curve(f"v{i}", tuple(knots), lo, hi, Fraction(draw(st.integers(0, 5)), 4)))
    total = draw(st.integers(1, sum(c.max_atoms for c in curves)))
    return curves, total, draw(st.booleans()), draw(st.integers(1, 6))


def brute_force(curves: list[Curve], total: int, maximize: bool, min_leg: int) -> Fraction | None:
    """The best gain over every integer split on the same model (each leg 0 or within its bounds)."""
    ranges = []
    for c in curves:
        lo, hi = max(c.min_atoms, min_leg), min(c.max_atoms, total)
        ranges.append([0, *range(lo, hi + 1)] if lo <= hi else [0])
    best = None
    for sizes in product(*ranges):
        if sum(sizes) != total:
            continue
        gain = sum((gain_curve(c, maximize, 1, c.max_atoms).at(x) for c, x in zip(curves, sizes, strict=True)
                    if x), Fraction(0))
        best = gain if best is None or gain > best else best
    return best


@settings(max_examples=150, deadline=None)
@given(instances())
def test_the_split_is_exact_on_its_model_and_never_worse_than_a_single_venue(
        case: tuple[list[Curve], int, bool, int]) -> None:
    curves, total, maximize, min_leg = case
    found = allocate(curves, total, maximize=maximize, min_leg_atoms=min_leg)
    best = brute_force(curves, total, maximize, min_leg)
    if best is None:
        assert found is None
        return
    assert found is not None
    assert sum(found.sizes) == total and all(isinstance(x, int) for x in found.sizes)
    for c, x in zip(curves, found.sizes, strict=True):
        assert x == 0 or max(c.min_atoms, min_leg) <= x <= c.max_atoms
    assert found.gain >= best  # tolerance 0: exact against every integer split
    for c in curves:
        if max(c.min_atoms, min_leg) <= total <= c.max_atoms:
            assert found.gain >= gain_curve(c, maximize, 1, c.max_atoms).at(total)


# End to end on true concave venues: a constant-product "Jupiter" sampled as in production, and real OTC pools.

@dataclass(frozen=True)
class _Quote:
    in_amount_atoms: int
    out_amount_atoms: int


@dataclass
class _ConstantProduct:
    """A Jupiter stand-in: one constant-product pool SOL -> USDC at MID with a fee; `quote` as the client's."""

    depth_sol: int
    fee_bps: int = 3
    limiter: None = None

    def out(self, x: int) -> int:
        x_res, y_res = self.depth_sol * 10**9, self.depth_sol * 150 * 10**6
        eff = x * (10_000 - self.fee_bps) // 10_000
        return y_res * eff // (x_res + eff)

    def input_for(self, y: int) -> int:
        lo, hi = 0, 10**20
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if self.out(mid) >= y else (mid, hi)
        return hi

    def quote(self, _in: str, _out: str, amount: int, _slip: int, mode: str = "ExactIn") -> _Quote:
        return _Quote(amount, self.out(amount)) if mode == "ExactIn" else _Quote(self.input_for(amount), amount)


def _pool(base_bps: int, size_bps: int, inventory_sol: int, min_sol: int, max_sol: int) -> otc_engine.PoolParams:
    return otc_engine.PoolParams(
        name="p", base_mint=SOL.mint, quote_mint=USDC.mint, base_decimals=9, quote_decimals=6,
        base_spread_bps=Decimal(base_bps), size_spread_bps=Decimal(size_bps), size_exponent=Decimal("1.5"),
        annual_vol_pct=Decimal(80), vol_z=Decimal(1), fee_bps=Decimal(2), min_trade_base_atoms=min_sol * 10**9,
        max_trade_base_atoms=max_sol * 10**9, target_base_atoms=inventory_sol * 10**9,
        target_quote_atoms=inventory_sol * 150 * 10**6, replenish_pct_per_hour=Decimal(10), execution_delay_ms=1500,
        delay_jitter_ms=0, quote_ttl_ms=15_000)


def _true_leg(order: orders.Order, venue: str, size: int, jup: _ConstantProduct,
              pool: otc_engine.PoolParams) -> tuple[int, int] | None:
    """(in, out) of a leg at the venue's true price, or None when the venue refuses it."""
    if venue == "jupiter":
        q = jup.quote("", "", size, 50, order.swap_mode)
        return q.in_amount_atoms, q.out_amount_atoms
    inv = otc_engine.Inventory(pool.target_base_atoms, pool.target_quote_atoms, NOW)
    q = otc_engine.quote_pool(pool, inv, MID, SOL.mint, USDC.mint, size, order.swap_mode, NOW)
    return None if isinstance(q, otc_engine.OtcRefusal) else (q.in_amount_atoms, q.out_amount_atoms)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(st.integers(200, 60_000), st.integers(20, 400), st.integers(1, 15), st.integers(10, 150),
       st.integers(30_000, 200_000), st.integers(50, 500), st.booleans())
def test_routed_split_beats_best_single_and_is_near_brute_force(
        amount_sol: int, depth_k: int, base_bps: int, size_bps: int, inventory_sol: int, min_sol: int,
        exact_in: bool) -> None:
    pool = _pool(base_bps, size_bps, inventory_sol, min_sol, inventory_sol // 3)
    jup = _ConstantProduct(depth_k * 1000)
    sol = amount_sol * 10**9
    order = (orders.Order(SOL, USDC, sol, SwapMode.EXACT_IN) if exact_in
             else orders.Order(SOL, USDC, amount_sol * 150 * 10**6, SwapMode.EXACT_OUT))  # USDC wanted at mid
    risk = {"jupiter": Decimal("1.2742"), pool.venue: router.timing_risk_bps(pool.venue, Decimal(80), Decimal(1), 1500)}
    inv = otc_engine.Inventory(pool.target_base_atoms, pool.target_quote_atoms, NOW)
    options = []
    for venue in ("jupiter", pool.venue):
        leg = _true_leg(order, venue, order.amount_atoms, jup, pool)
        options.append(router.unavailable(venue, "refused") if leg is None else router.priced_option(
            order, venue, leg[0], leg[1], MID, risk_bps=risk[venue], delay_ms=0))
    otc = cost_curves.otc_curve(pool, inv, MID, order, NOW, 0, up_to_in_atoms=order.amount_atoms if exact_in else None)
    others = [otc] if otc else []

    def cut(curve: router.VenueCurve) -> int | None:
        ordered, _, found = router.allocate(order, [curve, *others], MID)
        return next((n for c, n in zip(ordered, found.sizes, strict=True) if c.venue == "jupiter"), None) \
            if found else None

    full = jup.quote("", "", order.amount_atoms, 50, order.swap_mode)
    jc = cost_curves.jupiter_curve(jup, order, full, risk["jupiter"], 0, cut=cut, cache_ms=0)
    d = router.decide(order, options, [jc, *others], MID)
    rate = router.fair_rate(order, MID)

    def value(legs: list[tuple[str, int]]) -> Fraction | None:
        total = Fraction(0)
        for venue, size in legs:
            leg = _true_leg(order, venue, size, jup, pool)
            if leg is None:
                return None
            total += router.all_in_gain(order, rate, leg[0], leg[1], risk[venue])
        return total

    sizes = {leg.venue: leg.in_amount_atoms if exact_in else leg.out_amount_atoms for leg in d.legs}
    got = value(list(sizes.items()))
    assert got is not None and sum(sizes.values()) == order.amount_atoms
    singles = [v for v in (value([("jupiter", order.amount_atoms)]), value([(pool.venue, order.amount_atoms)]))
               if v is not None]
    assert got >= max(singles)
    min_leg = -(-order.amount_atoms // 100)
    grid = [order.amount_atoms * k // 200 for k in range(201)]
    brute = max(v for v in (value([(n, s) for n, s in (("jupiter", j), (pool.venue, order.amount_atoms - j)) if s])
                            for j in grid if j == 0 or j == order.amount_atoms
                            or min_leg <= j <= order.amount_atoms - min_leg) if v is not None)
    assert got >= brute - rate * order.amount_atoms * SPLIT_TOLERANCE_BPS / 10_000


def test_a_curve_must_have_ascending_knots_and_sane_bounds() -> None:
    assert allocator.MAX_SPLIT_VENUES >= 4
    with pytest.raises(ValueError):
        Curve("x", ((10, 5), (10, 6)), 1, 10)
    with pytest.raises(ValueError):
        Curve("x", ((10, 5),), 1, 11)  # max beyond the last sample


def test_a_split_decision_takes_the_cheap_slice_of_jupiter_and_explains_itself() -> None:
    order = orders.Order(SOL, USDC, 1000 * 10**9)  # worth 150,000 USDC at MID
    jup = router.VenueCurve("jupiter", ((250 * 10**9, 37_481_250_000), (500 * 10**9, 74_925_000_000),
                                        (1000 * 10**9, 149_625_000_000)), 1, 1000 * 10**9, Decimal(0), 0)  # 5, 15, 40
    otc = router.VenueCurve("otc:sol-usdc", ((1000 * 10**9, 149_820_000_000),), 100 * 10**9, 1000 * 10**9,
                            Decimal(0), 0)  # 12 bps flat
    options = [router.priced_option(order, "jupiter", 1000 * 10**9, 149_625_000_000, MID, risk_bps=Decimal(0),
                                    delay_ms=0),
               router.priced_option(order, "otc:sol-usdc", 1000 * 10**9, 149_820_000_000, MID, risk_bps=Decimal(0),
                                    delay_ms=0)]
    single = router.decide(order, options)
    d = router.decide(order, options, [jup, otc], MID)
    assert single.venue == "otc:sol-usdc" and d.venue == "split"
    # Jupiter's sampled marginal (5 bps at 125 SOL, 15 at 375, linear between) meets the pool's 12 bps at 300 SOL
    assert [(leg.venue, leg.in_amount_atoms) for leg in d.legs] == [("otc:sol-usdc", 700 * 10**9),
                                                                      ("jupiter", 300 * 10**9)]
    assert d.out_amount_atoms == 104_874_000_000 + 44_970_000_000 and d.split_gain_atoms == 24_000_000
    assert d.split_gain_bps == Decimal("1.6019") and d.best_single_venue == "otc:sol-usdc"
    assert [leg.marginal_cost_bps for leg in d.legs] == [Decimal(12), Decimal(12)]  # the marginals meet
    assert d.cost_bps == Decimal("10.4000")
    assert "300.00 SOL on jupiter at 6.7 bps all-in (12.0 bps at the cut)" in d.explanation
    assert "vs otc:sol-usdc alone" in d.explanation and "vs Jupiter only" in d.explanation
    worse = {("jupiter", 300 * 10**9): (300 * 10**9, 44_900_000_000)}  # re-quoted at 22.2 bps
    firm = router.decide(order, options, [jup, otc], MID, firm=worse)
    assert firm.venue == "otc:sol-usdc"  # the firm Jupiter price makes the split worse than one venue: no split
