"""Cost in bps vs trade size per venue, and the router's chosen route, from the split router's cost curves.

For each size on a log grid (SOL), cost_curves.chart_data prices every venue (OTC pricing is exact; Jupiter's curve
comes from the few cached samples the split router uses) and the router's optimal route (single venue or split).
The chart adds where the cheapest OTC pool first beats Jupiter. Each (pair, side) curve is kept CACHE_S per app in
a TTLCache under a lock (request threads share it); a miss is computed outside the lock.
"""
from __future__ import annotations

import threading
from datetime import datetime
from decimal import Decimal
from typing import Any

from cachetools import TTLCache
from flask import current_app

from core.tokens import SOL
from services import cost_curves

SIZES_SOL = (10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 200_000)
SIDES = ("sell", "buy")
PAIRS = ("SOL/USDC", "SOL/USDT")
CACHE_S = 60.0


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


def _cache() -> tuple[TTLCache[tuple[str, str], dict[str, Any]], threading.Lock]:
    """This app's chart cache and its lock (dict.setdefault is atomic: every thread gets the same pair)."""
    return current_app.extensions.setdefault(
        "olr_cost_curve_cache", (TTLCache(maxsize=len(PAIRS) * len(SIDES), ttl=CACHE_S), threading.Lock()))


def cost_curve(pair: str, side: str, now: datetime) -> dict[str, Any]:
    """The chart data for a pair and side from the split router's cost curves, cached CACHE_S."""
    if side not in SIDES:
        raise ValueError("side must be sell or buy")
    if pair not in PAIRS:
        raise ValueError(f"pair must be one of {', '.join(PAIRS)}")
    cache, lock = _cache()
    with lock:
        hit = cache.get((pair, side))
    if hit is not None:
        return hit
    data = cost_curves.chart_data(pair, side, [s * 10**SOL.decimals for s in SIZES_SOL], now)
    data["crossover"] = crossover({v["venue"]: v["cost_bps"] for v in data["venues"]})
    with lock:
        cache[(pair, side)] = data
    return data
