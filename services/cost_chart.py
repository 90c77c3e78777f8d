"""Cost in bps vs trade size per venue, and the router's optimal route, for the cost chart.

For each size on a log grid (SOL), every venue's all-in cost and the router's optimal route (single venue or split)
come from cost_curves.cost_vs_size (one Jupiter quote per size, OTC pools priced exactly). The chart is cached
for CACHE_S per process (a TTL cache under a lock: workers never build it twice at once).
"""
from __future__ import annotations

import threading
import weakref
from datetime import datetime
from decimal import Decimal
from typing import Any

from cachetools import TTLCache

from core import orders
from core.tokens import SOL, format_ui, resolve_token
from core.units import SwapMode
from services import cost_curves
from services.market import Market

SIZES_SOL = (10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 200_000)
SIDES = ("sell", "buy")
PAIRS = ("SOL/USDC", "SOL/USDT")
CACHE_S = 60.0


def _order(pair: str, side: str, size_atoms: int) -> orders.Order:
    """Sell: ExactIn of `size` SOL for the stablecoin; buy: ExactOut of `size` SOL paid in the stablecoin."""
    stable = resolve_token(pair.split("/")[1])
    if side == "sell":
        return orders.Order(SOL, stable, size_atoms, SwapMode.EXACT_IN, 50)
    return orders.Order(stable, SOL, size_atoms, SwapMode.EXACT_OUT, 50)


def crossover(venues: dict[str, list[str | None]]) -> dict[str, str] | None:
    """The first sampled size where an OTC pool is cheaper than Jupiter: the size before and at the switch."""
    jupiter = venues.get("jupiter")
    if not jupiter:
        return None
    for i, size in enumerate(SIZES_SOL):
        best = min(((Decimal(c[i]), v) for v, c in venues.items() if v != "jupiter" and c[i] is not None),
                   default=None)
        if best is not None and (jupiter[i] is None or best[0] < Decimal(jupiter[i])):
            return {"venue": best[1], "from_ui": str(SIZES_SOL[i - 1]) if i else "0", "to_ui": str(size)}
    return None


def chart_data(market: Market, pair: str, side: str, sizes_atoms: list[int], now: datetime) -> dict[str, Any]:
    """The cost chart's data: sell = ExactIn of SOL sizes for the stablecoin, buy = ExactOut (cost_chart's shape)."""
    stable = resolve_token(pair.split("/")[1])
    flow = (SOL, stable, SwapMode.EXACT_IN) if side == "sell" else (stable, SOL, SwapMode.EXACT_OUT)
    data = cost_curves.cost_vs_size(market, flow[0], flow[1], sizes_atoms, swap_mode=flow[2], now=now)
    one_place = [{**v, "cost_bps": [None if c is None else f"{Decimal(c):.1f}" for c in v["cost_bps"]]}
                 for v in data["venues"]]
    best = data["optimal"]
    sizes_ui = [format_ui(s, SOL.decimals) for s in sizes_atoms]
    return {"pair": pair, "side": side, "size_unit": "SOL", "sizes_ui": sizes_ui,
            "venues": one_place, "crossover": crossover({v["venue"]: v["cost_bps"] for v in one_place}),
            "router": {"cost_bps": [None if c is None else f"{Decimal(c):.1f}" for c in best["cost_bps"]],
                       "venue": best["route"], "legs": best["legs"]},
            "source": "cost curves (optimal split)", "at": data["as_of"]}


_caches: weakref.WeakKeyDictionary[Market, TTLCache[tuple[str, str], dict[str, Any]]] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()  # one builder at a time: a burst of chart requests computes the chart once


def cost_curve(market: Market, pair: str, side: str, now: datetime) -> dict[str, Any]:
    """The chart data for a pair and side (SOL sizes of SIZES_SOL), cached CACHE_S per market."""
    if side not in SIDES:
        raise ValueError("side must be sell or buy")
    if pair not in PAIRS:
        raise ValueError(f"pair must be one of {', '.join(PAIRS)}")
    with _cache_lock:
        cache = _caches.setdefault(market, TTLCache(maxsize=len(PAIRS) * len(SIDES), ttl=CACHE_S))
        hit = cache.get((pair, side))
        if hit is None:
            hit = cache[(pair, side)] = chart_data(market, pair, side, [s * 10**SOL.decimals for s in SIZES_SOL], now)
        return hit
