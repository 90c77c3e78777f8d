"""Jupiter's cost curve for an order from the shared ladder: two Jupiter calls per quote at steady state.

A quote costs the full-size Jupiter quote (gather) and, when the split gives Jupiter a leg, the firm re-quote of that
leg (quoting._firm_jupiter_leg). The curve's shape in between comes from the pair's ladder (core/ladder.py): rungs
2^k whole tokens wide, shared by every worker (Redis when set), fetched once when an order first needs them (cold
start, within the rate limiter's headroom) and then kept fresh in the background by each worker's jobs
(cli/worker.py: `refresh`, within a call budget), so warm quotes never sample.
"""
from __future__ import annotations

from decimal import Decimal

import jupiter_api
from core import ladder
from core.curves import VenueCurve
from core.orders import Order
from core.tokens import token_by_mint
from core.units import SwapMode
from core.venue import JUPITER
from services import cost_curves
from services.market import Market

DEMAND_KEEP_S = 600  # rungs no order needed for this long are no longer refreshed
NO_ANSWER = Decimal("NaN")  # a rung Jupiter had no route or no in-band price for: remembered, not asked again


def key_of(order: Order) -> str:
    """The ladder of the order's pair and direction."""
    return f"{order.input_token.mint}:{order.output_token.mint}:{order.swap_mode}"


def needed(order: Order) -> list[int]:
    """The rungs an order's curve reads: those in [amount/64, amount) and the first at or above the amount."""
    above = next(s for s in ladder.grid(10**order.amount_token.decimals) if s >= order.amount_atoms)
    return [*ladder.rung_sizes(order), above]


def jupiter_curve(market: Market, order: Order, full: jupiter_api.JupiterQuote, mid: Decimal, now_s: float,
                  risk_bps: Decimal, delay_ms: int) -> VenueCurve:
    """Jupiter's curve for the order: the ladder's shape levelled to the full-size quote (exact at the order's size)."""
    sizes, key = needed(order), key_of(order)
    market.ladders.touch(key, sizes, now_s)
    max_age = market.settings.ladder_max_age_s
    have = {s: cost for s, (cost, at) in market.ladders.get(key, sizes).items() if 0 <= now_s - at < max_age}
    missing = [s for s in sizes if s not in have]
    if missing:
        have |= sample(market, order, missing, mid, now_s)
    have = {s: c for s, c in have.items() if c.is_finite()}  # NaN: Jupiter had no usable answer at that size
    full_other = full.out_amount_atoms if order.exact_in else full.in_amount_atoms
    below = {s: c for s, c in have.items() if s < order.amount_atoms}
    above = {s: c for s, c in have.items() if s >= order.amount_atoms}
    knots = ladder.knots(order, below, full_other, mid, above)
    return VenueCurve(JUPITER, knots, 1, order.amount_atoms, risk_bps, delay_ms)


def sample(market: Market, order: Order, sizes: list[int], mid: Decimal, now_s: float, *,
           fresh: bool = False) -> dict[int, Decimal]:
    """Quote the rungs (within the limiter's headroom), keep the ones within the price band, store their costs.

    `fresh` skips the short cache of sampled quotes (a refresh must ask Jupiter again)."""
    cache_ms = 0 if fresh else cost_curves.CURVE_CACHE_MS
    quotes = cost_curves.sample_quotes(market.jupiter, order, sizes, cache_ms=cache_ms,
                                       parallel=market.settings.jupiter_mode == "live")
    costs: dict[int, Decimal] = {}
    for size in sizes:
        q = quotes.get(size)
        at_size = Order(order.input_token, order.output_token, size, order.swap_mode, order.slippage_bps)
        if q is None or market.out_of_band(at_size, q, mid):
            if size in quotes or not market.jupiter.limiter:  # it answered nothing usable (not merely rate-limited)
                costs[size] = NO_ANSWER
            continue
        costs[size] = ladder.cost_bps(at_size, size, q.out_amount_atoms if order.exact_in else q.in_amount_atoms, mid)
    market.ladders.put(key_of(order), {s: (c, now_s) for s, c in costs.items()})
    return costs


def refresh(market: Market, now_s: float, budget: int) -> int:
    """Re-sample up to `budget` demanded rungs older than LADDER_REFRESH_S (most recently needed first); calls made."""
    stale: dict[str, list[int]] = {}
    count = 0
    for key, size in market.ladders.demanded(now_s - DEMAND_KEEP_S):
        if count >= budget:
            break
        found = market.ladders.get(key, [size]).get(size)
        if found is None or now_s - found[1] >= market.settings.ladder_refresh_s:
            stale.setdefault(key, []).append(size)
            count += 1
    calls = 0
    for key, sizes in stale.items():
        input_mint, output_mint, mode = key.split(":")
        order = Order(token_by_mint(input_mint), token_by_mint(output_mint), max(sizes), SwapMode(mode), 50)
        try:
            mid = market.mid_price(order.input_token, order.output_token, now_s)
        except jupiter_api.JupiterError:
            continue  # no reference price: nothing can be checked, try again next round
        before = market.jupiter.stats().get("calls", 0)
        sample(market, order, sizes, mid, now_s, fresh=True)
        calls += market.jupiter.stats().get("calls", 0) - before
    return calls
