"""Pre-trade estimates on the market model (issue 16): the order now on one venue, split now, and over N minutes;
the parent order that fits under MAX_COST_BPS; the desk's hard-confirm threshold (bps or USD).

Estimates only: nothing is stored and nothing executes. "Over N minutes" is the cost of one slice of the TWAP now
(with a memoryless market every slice costs the same; once impact persists and decays the market model prices
each slice) plus the timing risk of the average wait, half the duration, z·σ·√(T/2) as for any venue that is not firm.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Any

import jupiter_api
from core import router, schedule
from core.orders import NoRouteAvailable, Order
from services import quoting
from services.errors import InputError, ServiceError
from services.market import Market

DEFAULT_DURATION_S = 600
DEFAULT_SLICES = 10
FIT_SLICES = (2, 4, 8, 16, 32, 64, 128)


@dataclass(frozen=True, slots=True)
class Guardrails:
    """The desk's pre-trade thresholds (README's table)."""

    warn_bps: Decimal = Decimal(25)  # the ticket colours the all-in cost amber above this
    danger_bps: Decimal = Decimal(100)  # ... and red above this
    confirm_bps: Decimal = Decimal(150)  # above this all-in cost a trade needs an explicit acknowledgement
    confirm_usd_atoms: int = 5_000_000 * 10**6  # ... or above this notional (USDC atoms)
    suggest_parent_bps: Decimal = Decimal(50)  # above this one-shot cost the ticket offers a parent order

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Guardrails:
        """The thresholds of a Flask config mapping (defaults where a key is absent)."""
        return cls(warn_bps=Decimal(str(config.get("COST_WARN_BPS", 25))),
                   danger_bps=Decimal(str(config.get("COST_DANGER_BPS", 100))),
                   confirm_bps=Decimal(str(config.get("HARD_CONFIRM_BPS", 150))),
                   confirm_usd_atoms=int(Decimal(str(config.get("HARD_CONFIRM_USD", 5_000_000))) * 10**6),
                   suggest_parent_bps=Decimal(str(config.get("PARENT_SUGGEST_BPS", 50))))

    def level(self, cost_bps: Decimal | None) -> str:
        """ok | warn | danger: the colour of an all-in cost."""
        if cost_bps is None or cost_bps <= self.warn_bps:
            return "ok"
        return "warn" if cost_bps <= self.danger_bps else "danger"

    def needs_confirm(self, cost_bps: Decimal | None, notional_usd_atoms: int) -> bool:
        """True when a trade must be acknowledged explicitly (cost above confirm_bps or notional above the USD)."""
        return (cost_bps is not None and cost_bps > self.confirm_bps) or notional_usd_atoms > self.confirm_usd_atoms


def cost_usd_atoms(notional_usd_atoms: int, cost_bps: Decimal) -> int:
    """The USD cost (USDC atoms, rounded up) of cost_bps on a notional."""
    return int((Decimal(notional_usd_atoms) * cost_bps / 10_000).to_integral_value(rounding=ROUND_CEILING))


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


def fitting_slices(market: Market, order: Order, max_cost_bps: Decimal) -> int | None:
    """The fewest slices (of FIT_SLICES) whose slice costs at most max_cost_bps now, or None."""
    for n in FIT_SLICES:
        if n > order.amount_atoms:
            break
        size = schedule.slice_sizes(order.amount_atoms, n)[0]
        _, bps = route_cost_bps(market, Order(order.input_token, order.output_token, size, order.swap_mode,
                                              order.slippage_bps))
        if bps is not None and bps <= max_cost_bps:
            return n
    return None


def _option(cost: Decimal | None, notional: int, rails: Guardrails) -> dict[str, Any]:
    """One column of the estimate: cost in bps and USD atoms, and its colour."""
    return {"cost_bps": None if cost is None else f"{cost:.1f}", "level": rails.level(cost),
            "cost_usd_atoms": None if cost is None else str(cost_usd_atoms(notional, cost))}


def estimate(market: Market, body: Any, config: Mapping[str, Any]) -> dict[str, Any]:
    """Now (best single venue), split now (the router's route) and over duration_s in `slices` (the TWAP)."""
    order = quoting.parse_order(body)
    duration_s = int(body.get("duration_s") or DEFAULT_DURATION_S)
    slices = int(body.get("slices") or DEFAULT_SLICES)
    if not (schedule.MIN_DURATION_S <= duration_s <= schedule.MAX_DURATION_S and 1 <= slices <= schedule.MAX_SLICES):
        raise InputError("duration_s or slices out of range", field="duration_s")
    rails = Guardrails.from_config(config)
    try:
        notional = market.usd_value_atoms(order.amount_atoms, order.input_token if order.exact_in
                                          else order.output_token)
    except jupiter_api.JupiterError:  # no price: the estimate still answers in bps
        notional = 0
    single, split = route_cost_bps(market, order)
    twap = over_time_bps(market, order, duration_s, min(slices, order.amount_atoms))
    one_shot = split if split is not None else single
    return {
        "notional_usd_atoms": str(notional), "duration_s": duration_s, "slices": slices,
        "now": _option(single, notional, rails), "split": _option(split, notional, rails),
        "over_time": _option(twap, notional, rails),
        "suggest_parent": one_shot is not None and one_shot > rails.suggest_parent_bps,
        "suggest_threshold_bps": str(rails.suggest_parent_bps),
        "confirm_required": rails.needs_confirm(one_shot, notional),
    }


def require_acknowledgement(cost_bps: Decimal | None, notional_usd_atoms: int, acknowledged: bool,
                            rails: Guardrails) -> None:
    """Server-side hard confirm: 422 CONFIRM_REQUIRED when the trade crosses a threshold without acknowledgement."""
    if acknowledged or not rails.needs_confirm(cost_bps, notional_usd_atoms):
        return
    bps = cost_bps or Decimal(0)
    usd = Decimal(cost_usd_atoms(notional_usd_atoms, bps)).scaleb(-6)
    raise ServiceError(422, "CONFIRM_REQUIRED",
                       f"this trade costs {bps:.1f} bps all-in ({usd:,.2f} USD) on "
                       f"{Decimal(notional_usd_atoms).scaleb(-6):,.0f} USD notional, above the desk's hard-confirm "
                       "threshold; acknowledge the cost to execute it")
