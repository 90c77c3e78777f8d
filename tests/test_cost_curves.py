"""Rules of gathering cost curves: few Jupiter calls, within the rate limit, cached; curves never flatter a venue."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import jupiter_api
import otc_engine
from core import allocator, orders
from core.desk_pools import DEFAULT_POOLS
from core.tokens import SOL, USDC
from core.units import SwapMode
from core.wire import RawResponse
from services import cost_curves
from sim.price import SimConfig
from sim.transport import SimTransport

NOW_S = 1_767_614_400.0
NOW = datetime.fromtimestamp(NOW_S, UTC)


class Counting:
    """The simulator transport at a fixed instant, counting upstream calls."""

    def __init__(self) -> None:
        self.sim, self.calls = SimTransport(SimConfig(), clock=lambda: NOW_S), 0

    def __call__(self, params: dict[str, str]) -> RawResponse:
        self.calls += 1
        return self.sim(params)


def sell(sol: int) -> orders.Order:
    return orders.Order(SOL, USDC, sol * 10**9)


def test_jupiter_is_sampled_a_bounded_number_of_times_and_then_served_from_cache() -> None:
    upstream = Counting()
    client = jupiter_api.JupiterClient(upstream)
    order = sell(40_000)
    full = cost_curves.leg_quote(client, order, order.amount_atoms)
    first = cost_curves.jupiter_curve(client, order, full, Decimal(1), 800, cut=lambda c: 1_700 * 10**9)
    assert first is not None and 1 + 3 <= upstream.calls <= 1 + 3 + 2 * 2
    before = upstream.calls
    again = cost_curves.jupiter_curve(client, order, full, Decimal(1), 800, cut=lambda c: 1_700 * 10**9)
    assert upstream.calls == before and again == first  # every sample came from the cache


def test_sampling_takes_only_what_the_rate_limiter_has_room_for() -> None:
    upstream, now = Counting(), [0.0]
    limiter = jupiter_api.RateLimiter(1, burst=2, clock=lambda: now[0], sleep=lambda s: None)
    client = jupiter_api.JupiterClient(upstream, limiter=limiter)
    order = sell(33_333)
    found = cost_curves.sample_quotes(client, order, [order.amount_atoms >> k for k in (2, 4, 6)], cache_ms=0)
    assert upstream.calls == len(found) == 2  # a third call would have waited for the bucket


def test_interpolated_jupiter_legs_never_promise_more_than_a_real_quote() -> None:
    client = jupiter_api.JupiterClient(Counting())
    order = sell(50_000)
    full = cost_curves.leg_quote(client, order, order.amount_atoms)
    curve = cost_curves.jupiter_curve(client, order, full, Decimal(0), 0, cache_ms=0)
    assert curve is not None
    line = allocator.Curve("jupiter", curve.knots, curve.min_atoms, curve.max_atoms)
    for sol in (300, 1_000, 2_200, 7_000, 18_000, 45_000):
        estimate = allocator.other_at(line, sol * 10**9)
        assert estimate <= cost_curves.leg_quote(client, order, sol * 10**9).out_amount_atoms


def test_otc_curves_are_exact_at_their_knots_and_conservative_for_exact_out() -> None:
    pool = DEFAULT_POOLS[0]
    inv = otc_engine.Inventory(pool.target_base_atoms, pool.target_quote_atoms, NOW)
    mid = Decimal(150)
    sell_curve = cost_curves.otc_curve(pool, inv, mid, sell(60_000), NOW, 0)
    assert sell_curve is not None and sell_curve.min_atoms == pool.min_trade_base_atoms
    assert sell_curve.max_atoms == pool.max_trade_base_atoms  # 50,000 SOL: the pool's largest trade
    for size, out in sell_curve.knots:
        q = otc_engine.quote_pool(pool, inv, mid, SOL.mint, USDC.mint, size, "ExactIn", NOW)
        assert isinstance(q, otc_engine.OtcQuote) and q.out_amount_atoms == out
    buy = orders.Order(USDC, SOL, 20_000 * 10**9, SwapMode.EXACT_OUT)
    buy_curve = cost_curves.otc_curve(pool, inv, mid, buy, NOW, 0)  # a pool mid is quote per base either way
    assert buy_curve is not None
    line = allocator.Curve(buy_curve.venue, buy_curve.knots, buy_curve.min_atoms, buy_curve.max_atoms)
    for sol in (150, 1_000, 9_999, 20_000):
        q = otc_engine.quote_pool(pool, inv, mid, USDC.mint, SOL.mint, sol * 10**9, "ExactOut", NOW)
        assert isinstance(q, otc_engine.OtcQuote) and q.in_amount_atoms <= allocator.other_at(line, sol * 10**9)


def test_the_largest_accepted_size_is_found_exactly_not_stepped_back() -> None:
    for limit in (10, 11, 999_999, 1_000_000, 123_456_789_012):
        assert cost_curves._largest_accepted(1, 10**12, lambda x, n=limit: x <= n) == limit
    assert cost_curves._largest_accepted(5, 5, lambda x: x <= 5) == 5


def test_an_otc_buy_curve_ends_at_the_pools_exact_largest_input() -> None:
    pool = next(p for p in DEFAULT_POOLS if p.quote_mint != USDC.mint)
    inv = otc_engine.Inventory(pool.target_base_atoms, pool.target_quote_atoms, NOW)
    book = cost_curves.OtcBook(pool, inv, Decimal(150), NOW, 0)
    out = otc_engine.exact_in_pricer(pool, inv, Decimal(150), pool.quote_mint, pool.base_mint)
    lo, hi = cost_curves._input_range(book, pool.quote_mint, pool.base_mint, out)  # type: ignore[misc]

    def accepted(x: int) -> bool:
        q = otc_engine.quote_pool(pool, inv, Decimal(150), pool.quote_mint, pool.base_mint, x, "ExactIn", NOW)
        return isinstance(q, otc_engine.OtcQuote)

    assert lo < hi and accepted(hi) and not accepted(hi + 1)
