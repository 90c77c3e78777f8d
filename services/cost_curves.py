"""Gather each venue's cost curve for an order: Jupiter sampled at a few sizes, OTC pools priced by their engine.

Jupiter: at most 8 quotes per order (the full size, a coarse geometric grid, then two rounds of two around the
split's cut point), cached for CURVE_CACHE_MS, only as many as the client's rate limiter has headroom for, in
parallel on the live API. Linear interpolation between
samples of a concave out(size) never overestimates output (nor underestimates input for ExactOut); the router
re-quotes a split's Jupiter leg at exactly its size anyway. OTC: ExactIn quotes across the pool's legal input range.
"""
from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from decimal import Decimal
from typing import Any

from cachetools import TTLCache

import jupiter_api
import otc_engine
from core import orders, router
from core.curves import OtcBook
from core.orders import Order
from core.otc_types import as_utc
from core.router import VenueCurve
from core.tokens import Token
from core.units import SwapMode, iso_z, pool_mid
from ledger.pools import pair_pools
from models import utcnow
from services.market import Market

COARSE_SHIFTS = (2, 4, 6)  # first samples besides the full size: order/4, order/16, order/64
REFINE_ROUNDS, REFINE_SAMPLES = 2, 2  # then around the split's Jupiter cut: at most 1 + 3 + 2·2 = 8 quotes
OTC_KNOTS = 16  # half spaced evenly, half geometrically over the pool's legal range
CURVE_CACHE_MS = 2_000  # sampled Jupiter quotes are reused this long (within a quote's lifetime)
_CACHE_MAX = 512

# Per client (weakly held: a dropped client takes its cache along), sampled quotes by (in, out, size, mode).
_caches: weakref.WeakKeyDictionary[jupiter_api.JupiterClient, TTLCache[tuple[str, str, int, str], Any]] = \
    weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def _cache_of(client: jupiter_api.JupiterClient, cache_ms: int) -> TTLCache[tuple[str, str, int, str], Any]:
    """The client's sampled-quote cache (entries live cache_ms; cache_ms 0: a throw-away cache, nothing is kept)."""
    if cache_ms <= 0:
        return TTLCache(maxsize=1, ttl=1e-9)
    with _cache_lock:
        found = _caches.get(client)
        if found is None or found.ttl != cache_ms / 1000:
            found = _caches[client] = TTLCache(maxsize=_CACHE_MAX, ttl=cache_ms / 1000)
        return found


def forget_samples(client: jupiter_api.JupiterClient) -> None:
    """Drop the client's cached sampled quotes (a benchmark that moves its simulated clock between orders: the cache
    lives in real time, so an order must not reuse quotes sampled at another simulated instant)."""
    with _cache_lock:
        _caches.pop(client, None)


def sample_quotes(client: jupiter_api.JupiterClient, order: Order, sizes: list[int], *, cache_ms: int = CURVE_CACHE_MS,
                  parallel: bool = False) -> dict[int, jupiter_api.JupiterQuote]:
    """Jupiter quotes at the given sizes (order's mints and mode): cached ones first, then as many fresh calls as the
    rate limiter has headroom for (all of them when it has none configured); failed sizes are left out."""
    cache, found, missing = _cache_of(client, cache_ms), {}, []
    for size in sizes:
        with _cache_lock:
            hit = cache.get((order.input_token.mint, order.output_token.mint, size, order.swap_mode))
        if hit is not None:
            found[size] = hit
        else:
            missing.append(size)
    if client.limiter is not None:
        missing = missing[: max(0, int(client.limiter.headroom()))]

    def fetch(size: int) -> tuple[int, jupiter_api.JupiterQuote | None]:
        try:
            return size, leg_quote(client, order, size)
        except jupiter_api.JupiterError:
            return size, None

    if parallel and len(missing) > 1:
        with ThreadPoolExecutor(max_workers=min(4, len(missing))) as pool:
            fetched = list(pool.map(fetch, missing))
    else:
        fetched = [fetch(size) for size in missing]
    for size, quote in fetched:
        if quote is not None:
            found[size] = quote
            with _cache_lock:
                cache[(order.input_token.mint, order.output_token.mint, size, order.swap_mode)] = quote
    return found


def leg_quote(client: jupiter_api.JupiterClient, order: Order, size_atoms: int) -> jupiter_api.JupiterQuote:
    """A fresh Jupiter quote for exactly size_atoms of the order's fixed side (never cached)."""
    return client.quote(order.input_token.mint, order.output_token.mint, size_atoms, order.slippage_bps,
                        order.swap_mode)


def jupiter_curve(client: jupiter_api.JupiterClient, order: Order, full: jupiter_api.JupiterQuote | None,
                  risk_bps: Decimal, delay_ms: int, *, cut: Callable[[VenueCurve], int | None] | None = None,
                  sizes: list[int] | None = None, parallel: bool = False,
                  cache_ms: int = CURVE_CACHE_MS) -> VenueCurve | None:
    """Jupiter's curve: the full-size quote plus samples at `sizes` (default order/4, /16, /64), then, while `cut`
    (the curve -> Jupiter's leg in the best split) names a size, a few more samples around it; None without any."""
    wanted = sizes if sizes is not None else [order.amount_atoms >> k for k in COARSE_SHIFTS]
    quotes = sample_quotes(client, order, [s for s in wanted if s > 0], cache_ms=cache_ms, parallel=parallel)
    if full is not None:
        quotes[order.amount_atoms] = full
    curve = _curve_of(order, quotes, risk_bps, delay_ms)
    for _ in range(REFINE_ROUNDS if cut is not None else 0):
        at = cut(curve) if curve is not None and cut is not None else None
        if not at:
            break
        known = sorted(quotes)
        lower = max((k for k in known if k < at), default=0)
        upper = min((k for k in known if k > at), default=None)
        more = [x for x in (at, (lower + at) // 2, (at + upper) // 2 if upper else 0) if x > 0 and x not in quotes]
        if not more:
            break
        quotes.update(sample_quotes(client, order, more[:REFINE_SAMPLES], cache_ms=cache_ms, parallel=parallel))
        curve = _curve_of(order, quotes, risk_bps, delay_ms)
    return curve


def _curve_of(order: Order, quotes: dict[int, jupiter_api.JupiterQuote], risk_bps: Decimal,
              delay_ms: int) -> VenueCurve | None:
    """The Jupiter curve through the sampled quotes (size -> quote), or None without any."""
    if not quotes:
        return None
    knots = tuple(sorted((size, q.out_amount_atoms if order.exact_in else q.in_amount_atoms)
                         for size, q in quotes.items()))
    return VenueCurve("jupiter", knots, 1, knots[-1][0], risk_bps, delay_ms)


def _largest_accepted(lo: int, hi: int, accepted: Callable[[int], bool]) -> int:
    """The largest x in [lo, hi] that `accepted` (true up to a limit, false above it), found exactly: steps back
    from hi doubling each time (the base rounding overshoots by a few atoms), then bisects; lo if none is."""
    if accepted(hi):
        return hi
    bad, step = hi, 1
    while bad - step > lo and not accepted(bad - step):
        bad, step = bad - step, step * 2
    good = max(lo, bad - step)
    while bad - good > 1:
        mid = (good + bad) // 2
        good, bad = (mid, bad) if accepted(mid) else (good, mid)
    return good


def _input_range(book: OtcBook, input_mint: str, output_mint: str,
                 out: Callable[[int], int | None]) -> tuple[int, int] | None:
    """The pool's legal ExactIn input sizes [lo, hi] for this direction (inventory, min and max trade size); `out`
    is the pool's ExactIn pricer for that direction (otc_engine.exact_in_pricer)."""
    p, now, seed = book.params, book.now, book.jitter_seed

    def quote(amount: int, mode: str) -> otc_engine.OtcQuote | otc_engine.OtcRefusal:
        return otc_engine.quote_pool(p, book.inventory, book.pool_mid, input_mint, output_mint, amount, mode, now,
                                     jitter_seed=seed)

    sell_base = input_mint == p.base_mint
    m_n, m_d = book.pool_mid.as_integer_ratio()
    b_unit, q_unit = 10**p.base_decimals, 10**p.quote_decimals
    num, den = (m_n * q_unit, m_d * b_unit) if sell_base else (m_d * b_unit, m_n * q_unit)
    cap = otc_engine.payout_available(p, book.inventory, output_mint) * den // num  # payout at mid within inventory
    if sell_base:
        lo, hi = p.min_trade_base_atoms, min(p.max_trade_base_atoms, cap)
    else:
        first = quote(p.min_trade_base_atoms, SwapMode.EXACT_OUT)
        if isinstance(first, otc_engine.OtcRefusal):
            return None
        lo, hi = first.in_amount_atoms, cap
        if out(hi) is None:
            top = quote(p.max_trade_base_atoms, SwapMode.EXACT_OUT)
            hi = min(cap, top.in_amount_atoms) if isinstance(top, otc_engine.OtcQuote) else cap
            hi = _largest_accepted(lo, hi, lambda x: out(x) is not None)
    if lo > hi or out(lo) is None:
        return None
    return lo, hi


def _grid(lo: int, hi: int, count: int) -> list[int]:
    """About `count` distinct sizes from lo to hi: half evenly spaced, half in geometric steps."""
    half = max(2, count // 2)
    even = {lo + (hi - lo) * k // (half - 1) for k in range(half)}
    ratio = (Decimal(hi) / lo) ** (Decimal(1) / (half - 1)) if lo > 0 else Decimal(1)
    geometric = {min(hi, max(lo, int(lo * ratio**k))) for k in range(half)}
    return sorted(even | geometric | {hi})


def otc_curve(params: otc_engine.PoolParams, inventory: otc_engine.Inventory, pool_mid: Decimal, order: Order,
              now: datetime, jitter_seed: int, *, up_to_in_atoms: int | None = None) -> VenueCurve | None:
    """An OTC pool's curve for the order's direction and mode, exact at its knots; None when it cannot trade.

    up_to_in_atoms bounds the sampled input range (the order's size, when known) to keep knots where they matter.
    """
    now = as_utc("now", now)  # as quote_pool would refuse a naive time
    book = OtcBook(params, inventory, pool_mid, now, jitter_seed)
    in_mint, out_mint = order.input_token.mint, order.output_token.mint
    out = otc_engine.exact_in_pricer(params, inventory, pool_mid, in_mint, out_mint, jitter_seed)
    found = _input_range(book, in_mint, out_mint, out)
    if found is None:
        return None
    lo, hi = found
    if order.exact_in and order.amount_atoms < lo:
        return None  # the whole order is below this pool's smallest leg
    if up_to_in_atoms is not None:
        hi = max(lo, min(hi, up_to_in_atoms))
    points = [(x, got) for x in _grid(lo, hi, OTC_KNOTS) if (got := out(x)) is not None]
    if not points:
        return None
    delay = otc_engine.execution_delay_ms(params, jitter_seed)
    risk = router.timing_risk_bps(params.venue, params.annual_vol_pct, params.vol_z, delay)
    if order.exact_in:
        return VenueCurve(params.venue, tuple(points), points[0][0], points[-1][0], risk, delay, book)
    knots: list[tuple[int, int]] = []
    for x, got in points:  # ExactOut: size is the output; the ExactIn input is an upper bound on the least input
        if not knots or got > knots[-1][0]:
            knots.append((got, x))
    if knots[0][0] + 1 > knots[-1][0]:
        return None
    return VenueCurve(params.venue, tuple(knots), knots[0][0] + 1, knots[-1][0], risk, delay, book)


def cost_vs_size(market: Market, input_token: Token, output_token: Token, sizes_atoms: list[int], *,
                 swap_mode: SwapMode = SwapMode.EXACT_IN, now: datetime | None = None) -> dict[str, Any]:
    """Each venue's all-in cost (bps) at each size and the router's optimal route (split or single) at each size.

    sizes_atoms are amounts of the input token (ExactIn) or output token (ExactOut); one Jupiter quote per distinct
    size (cached, rate-limited), the OTC pools priced by their engines. Needs an app context. JSON-ready: atoms and
    bps as decimal strings, None where a venue cannot fill that size.
    """
    now = now or utcnow()
    pools = pair_pools(input_token.mint, output_token.mint)
    mid = market.mid_price(input_token, output_token, now.timestamp())
    sizes = sorted(set(sizes_atoms))
    biggest = Order(input_token, output_token, sizes[-1], swap_mode)
    jquotes = sample_quotes(market.jupiter, biggest, sizes, parallel=market.settings.jupiter_mode == "live")
    delay_ms, jrisk = market.settings.jupiter_delay_ms, market.jupiter_risk_bps()
    books = [(p.params, otc_engine.replenish(p.params, p.inventory, now), pool_mid(mid, p.sells_base(input_token.mint)))
             for p in pools]
    seed = int(now.timestamp())
    otc = [c for c in (otc_curve(p, inv, pm, biggest, now, seed) for p, inv, pm in books) if c is not None]
    rows: dict[int, dict[str, Any]] = {}
    for size in sizes:
        order = Order(input_token, output_token, size, swap_mode)
        options = [_jupiter_cost(order, jquotes.get(size), mid, jrisk, delay_ms)]
        options += [_otc_cost(order, p, inv, pm, mid, now, seed) for p, inv, pm in books]
        jknots = {s: q for s, q in jquotes.items() if s <= size}
        curves = [c for c in (_curve_of(order, jknots, jrisk, delay_ms),) if c is not None] + otc
        try:
            d = router.decide(order, options, curves, mid)
            best = (f"{d.cost_bps:.2f}", d.venue, [{"venue": leg.venue, "size_atoms": str(
                leg.in_amount_atoms if order.exact_in else leg.out_amount_atoms)} for leg in d.legs])
        except orders.NoRouteAvailable:
            best = (None, None, [])
        rows[size] = {"options": options, "best": best}
    venues = [o.venue for o in rows[sizes[0]]["options"]]
    ordered = [rows[s] for s in sizes_atoms]
    return {
        "input_symbol": input_token.symbol, "output_symbol": output_token.symbol, "swap_mode": swap_mode,
        "size_symbol": (input_token if swap_mode == SwapMode.EXACT_IN else output_token).symbol, "as_of": iso_z(now),
        "sizes_atoms": [str(s) for s in sizes_atoms],
        "venues": [{"venue": v, "cost_bps": [_bps_text(r["options"][i]) for r in ordered],
                    "reason": [r["options"][i].reason for r in ordered]} for i, v in enumerate(venues)],
        "optimal": {"cost_bps": [r["best"][0] for r in ordered], "route": [r["best"][1] for r in ordered],
                    "legs": [r["best"][2] for r in ordered]},
    }


def _bps_text(option: orders.VenueOption) -> str | None:
    """An available option's all-in cost as a 2-decimal string, else None."""
    return f"{option.cost_bps:.2f}" if option.available and option.cost_bps is not None else None


def _jupiter_cost(order: Order, q: jupiter_api.JupiterQuote | None, mid: Decimal, risk_bps: Decimal,
                  delay_ms: int) -> orders.VenueOption:
    """Jupiter's option at this size from its sampled quote (unavailable when it could not quote)."""
    if q is None:
        return router.unavailable("jupiter", "Jupiter could not quote this size")
    return router.priced_option(order, "jupiter", q.in_amount_atoms, q.out_amount_atoms, mid, risk_bps=risk_bps,
                                delay_ms=delay_ms)


def _otc_cost(order: Order, params: otc_engine.PoolParams, inv: otc_engine.Inventory, pool_mid: Decimal, mid: Decimal,
              now: datetime, seed: int) -> orders.VenueOption:
    """An OTC pool's option at this size, priced by its engine."""
    q = otc_engine.quote_pool(params, inv, pool_mid, order.input_token.mint, order.output_token.mint,
                              order.amount_atoms, order.swap_mode, now, jitter_seed=seed)
    if isinstance(q, otc_engine.OtcRefusal):
        return router.unavailable(params.venue, q.reason)
    risk = router.timing_risk_bps(params.venue, params.annual_vol_pct, params.vol_z, q.execution_delay_ms)
    return router.priced_option(order, params.venue, q.in_amount_atoms, q.out_amount_atoms, mid, risk_bps=risk,
                                delay_ms=q.execution_delay_ms)
