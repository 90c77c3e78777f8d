"""Cost in bps vs trade size per venue, and the router's chosen route, sampled from live quotes.

For each size on a log grid (SOL), the gather step quotes every venue (OTC pricing is exact; Jupiter is quoted at
the size, plus the few curve samples the split router asks for, which cost_curves caches) and the router decides.
The whole curve is cached for CACHE_S per process. The "router" line is the decision's all-in cost: the cheapest
single venue, or the optimal split across venues when splitting is cheaper.
Hook: when `cost_curves.chart_data(pair, side, sizes_atoms, now)` exists (the split router's curves, issue 5) it
supplies the same shape instead of sampling; if it fails, the sampled curve is served and the failure logged.
"""
from __future__ import annotations

import importlib
import time
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import current_app

from core import router
from core.tokens import SOL, resolve_token
from services import quoting
from web.formatting import iso_z

SIZES_SOL = (10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 200_000)
SIDES = ("sell", "buy")
PAIRS = ("SOL/USDC", "SOL/USDT")
CACHE_S = 60.0


def _order(pair: str, side: str, size_atoms: int) -> router.Order:
    """Sell: ExactIn of `size` SOL for the stablecoin; buy: ExactOut of `size` SOL paid in the stablecoin."""
    stable = resolve_token(pair.split("/")[1])
    if side == "sell":
        return router.Order(SOL, stable, size_atoms, router.EXACT_IN, 50)
    return router.Order(stable, SOL, size_atoms, router.EXACT_OUT, 50)


def _text(value: Decimal | None) -> str | None:
    """bps as a one-decimal string."""
    return None if value is None else f"{value:.1f}"


def sample(pair: str, side: str, now: datetime) -> dict[str, Any]:
    """Every venue's all-in cost (bps) and the router's choice at each size of SIZES_SOL."""
    venues: dict[str, list[str | None]] = {}
    reasons: dict[str, list[str | None]] = {}
    chosen: list[str | None] = []
    chosen_venue: list[str | None] = []
    for i, size in enumerate(SIZES_SOL):
        g = quoting.gather(_order(pair, side, size * 10**SOL.decimals), now)
        for o in g.options:
            venues.setdefault(o.venue, [None] * len(SIZES_SOL))[i] = _text(o.cost_bps) if o.available else None
            reasons.setdefault(o.venue, [None] * len(SIZES_SOL))[i] = None if o.available else o.reason
        try:
            d = quoting.decide(g)
            chosen.append(_text(d.cost_bps))
            chosen_venue.append(_route_text(d))
        except quoting.ServiceError:
            chosen.append(None)
            chosen_venue.append(None)
    order = sorted(venues, key=lambda v: (v != "jupiter", v))
    return {"pair": pair, "side": side, "size_unit": "SOL", "sizes_ui": [str(s) for s in SIZES_SOL],
            "venues": [{"venue": v, "cost_bps": venues[v], "reason": reasons[v]} for v in order],
            "router": {"cost_bps": chosen, "venue": chosen_venue},
            "crossover": crossover(venues), "source": "sampled quotes", "at": iso_z(now)}


def _route_text(d: router.Decision) -> str:
    """The venue of a single-venue route, or each leg's venue and share of the order for a split."""
    if len(d.legs) == 1:
        return d.venue
    fixed = [leg.in_amount_atoms for leg in d.legs] if d.in_amount_atoms else [leg.out_amount_atoms for leg in d.legs]
    total = sum(fixed) or 1
    return " + ".join(f"{leg.venue} {part * 100 // total}%" for leg, part in zip(d.legs, fixed, strict=True))


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


def cost_curve(pair: str, side: str, now: datetime) -> dict[str, Any]:
    """The chart data for a pair and side, from `cost_curves` when available, else sampled; cached CACHE_S."""
    if side not in SIDES:
        raise ValueError("side must be sell or buy")
    if pair not in PAIRS:
        raise ValueError(f"pair must be one of {', '.join(PAIRS)}")
    cache = current_app.extensions.setdefault("olr_cost_curve_cache", {})
    hit = cache.get((pair, side))
    if hit is not None and time.monotonic() - hit[0] < CACHE_S:
        return hit[1]
    provider = _provider()
    sizes_atoms = [s * 10**SOL.decimals for s in SIZES_SOL]
    data = None
    if provider is not None:
        try:
            data = provider(pair, side, sizes_atoms, now)
        except Exception:
            current_app.logger.warning("cost_curves.chart_data failed; sampling instead", exc_info=True)
    if data is None:
        data = sample(pair, side, now)
    cache[(pair, side)] = (time.monotonic(), data)
    return data


def _provider() -> Any:
    """cost_curves.chart_data when that module exists (issue 5), else None."""
    try:
        module = importlib.import_module("cost_curves")
    except ImportError:
        return None
    return getattr(module, "chart_data", None)
