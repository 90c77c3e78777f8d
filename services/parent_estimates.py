"""Pre-trade estimates on the market model (issue 16): the order now on one venue, split now, and over N minutes;
the parent order that fits under MAX_COST_BPS; the desk's hard-confirm threshold (bps or USD).

Estimates only: nothing is stored and nothing executes. "Over N minutes" is the cost of one slice of the TWAP now
(with a memoryless market every slice costs the same; once impact persists and decays the market model prices
each slice) plus the timing risk of the average wait, half the duration, z·σ·√(T/2) as for any venue that is not firm.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import jupiter_api
from core import codec, router, schedule
from core.orders import NoRouteAvailable, Order
from core.tokens import format_ui
from services import guardrails, quoting
from services.errors import ServiceError
from services.guardrails import Guardrails, cost_usd_atoms
from services.market import Market
from services.parent_requests import parse_schedule

FIT_SLICES = (2, 4, 8, 16, 32, 64, 128)
MIN_INTERVAL_S = 60  # a suggested TWAP's slices are at least this far apart (and one impact half-life)


def route_cost_bps(market: Market, order: Order) -> tuple[Decimal | None, Decimal | None]:
    """(best single venue, best route incl. split) all-in cost of the order now; None where nothing routes."""
    g = quoting.gather(market, order)
    single = min((o.cost_bps for o in g.options if o.available and o.cost_bps is not None), default=None)
    try:
        best = router.decide(order, g.options, g.curves, g.mid_price).cost_bps
    except NoRouteAvailable:
        best = None
    return single, best


def over_time_bps(market: Market, order: Order, duration_s: int, slices: int) -> Decimal | None:
    """The TWAP's estimate: one slice's best route now plus the timing risk of waiting half the duration."""
    size = schedule.slice_sizes(order.amount_atoms, slices)[0]
    _, slice_bps = route_cost_bps(market, Order(order.input_token, order.output_token, size, order.swap_mode,
                                                order.slippage_bps))
    if slice_bps is None:
        return None
    s = market.settings
    return slice_bps + router.delay_risk_bps(s.jupiter_annual_vol_pct, s.jupiter_vol_z, duration_s * 500)


def fitting_slices(market: Market, order: Order, max_cost_bps: Decimal) -> tuple[int, Decimal] | None:
    """The fewest slices (of FIT_SLICES) whose slice costs at most max_cost_bps now, with that cost; or None."""
    for n in FIT_SLICES:
        if n > order.amount_atoms:
            break
        size = schedule.slice_sizes(order.amount_atoms, n)[0]
        _, bps = route_cost_bps(market, Order(order.input_token, order.output_token, size, order.swap_mode,
                                              order.slippage_bps))
        if bps is not None and bps <= max_cost_bps:
            return n, bps
    return None


def suggest_parent(market: Market, order: Order, refusal: ServiceError) -> ServiceError:
    """A COST_LIMIT refusal with the parent order that fits under MAX_COST_BPS (`suggestion`: twap, slices, one
    interval per slice of max(60 s, the impact half-life)); any other refusal is returned as it is."""
    if refusal.code != "COST_LIMIT":
        return refusal
    limit = market.settings.max_cost_bps
    fit = fitting_slices(market, order, limit)
    if fit is None:
        return ServiceError(refusal.status, refusal.code, f"{refusal}; no parent order of up to {FIT_SLICES[-1]} "
                            f"slices fits under {limit} bps now: trade a smaller size", refusal.trade,
                            {"suggestion": None})
    slices, slice_bps = fit
    interval_s = max(MIN_INTERVAL_S, math.ceil(market.settings.tca_twap_half_life_s))
    duration_s = min(schedule.MAX_DURATION_S, slices * interval_s)
    amount_token = order.input_token if order.exact_in else order.output_token
    suggestion = {"strategy": "twap", "slices": slices, "duration_s": duration_s,
                  "slice_cost_bps": f"{slice_bps:.1f}", "max_cost_bps": str(limit),
                  "order": {**codec.order_json(order), "amount": format_ui(
                      order.amount_atoms, amount_token.decimals, None).replace(",", "")}}
    return ServiceError(refusal.status, refusal.code,
                        f"{refusal}; work it as a parent order: {slices} slices over {_duration_text(duration_s)} "
                        f"fits under {limit} bps (each slice {slice_bps:.1f} bps on today's market)",
                        refusal.trade, {"suggestion": suggestion})


def _duration_text(seconds: int) -> str:
    """'10 minutes', '90 seconds', '2 hours' (display only)."""
    if seconds % 3600 == 0:
        return f"{seconds // 3600} hour{'s' if seconds != 3600 else ''}"
    if seconds % 60 == 0:
        return f"{seconds // 60} minute{'s' if seconds != 60 else ''}"
    return f"{seconds} seconds"


def _option(cost: Decimal | None, notional: int, rails: Guardrails) -> dict[str, Any]:
    """One column of the estimate: cost in bps and USD atoms, and its colour."""
    return {"cost_bps": None if cost is None else f"{cost:.1f}", "level": rails.level(cost),
            "cost_usd_atoms": None if cost is None else str(cost_usd_atoms(notional, cost))}


def estimate(market: Market, body: Any, config: Mapping[str, Any]) -> dict[str, Any]:
    """Now (best single venue), split now (the router's route) and over duration_s in `slices` (the TWAP); the
    body's `duration_s` and `slices` are required and validated as for a parent order (InputError, 400)."""
    order = quoting.parse_order(body)
    sched = parse_schedule(body, order)  # InputError (400) as for POST /api/v1/orders
    duration_s, slices = sched.duration_s, sched.slices
    rails = Guardrails.from_config(config)
    try:
        notional = market.usd_value_atoms(order.amount_atoms, order.input_token if order.exact_in
                                          else order.output_token)
    except jupiter_api.JupiterError:  # no price: the estimate still answers in bps
        notional = 0
    single, split = route_cost_bps(market, order)
    twap = over_time_bps(market, order, duration_s, slices)
    one_shot = split if split is not None else single
    return {
        "notional_usd_atoms": str(notional), "duration_s": duration_s, "slices": slices,
        "now": _option(single, notional, rails), "split": _option(split, notional, rails),
        "over_time": _option(twap, notional, rails),
        "suggest_parent": one_shot is not None and one_shot > rails.suggest_parent_bps,
        "suggest_threshold_bps": str(rails.suggest_parent_bps),
        "confirm_required": rails.needs_confirm(one_shot, notional),
    }


def confirm_parent(market: Market, body: Any, acknowledged: bool) -> None:
    """HARD_CONFIRM_API on POST /api/v1/orders: a parent whose notional is above HARD_CONFIRM_USD needs
    `acknowledge_cost` (422 CONFIRM_REQUIRED, nothing placed). Its cost is not known before its slices trade (each
    is bounded by MAX_COST_BPS and the limit price), so only the notional counts; no reference price counts 0."""
    order = quoting.parse_order(body)
    try:
        notional = market.usd_value_atoms(order.amount_atoms, order.input_token if order.exact_in
                                          else order.output_token)
    except jupiter_api.JupiterError:  # placing fails anyway without a reference price (503)
        notional = 0
    guardrails.require_acknowledgement(None, notional, acknowledged, market.settings.guardrails)
