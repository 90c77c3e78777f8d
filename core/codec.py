"""Decisions and venue options as JSON-ready dicts and back: atoms and bps as decimal strings, exact where stored.

Pure: stdlib only. `decision_json(d)` is the display shape of API.md (bps to 0.1); `decision_json(d, exact=True)`
keeps every Decimal as it was, and `decision_from_json` rebuilds exactly what `exact=True` wrote.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from core.orders import Decision, Leg, Order, VenueOption


def text(value: int | Decimal | None) -> str | None:
    """Atoms or bps as a decimal string; None stays None."""
    return None if value is None else str(value)


def bps(value: Decimal | None) -> str | None:
    """bps rounded to 0.1 for display in JSON."""
    return None if value is None else f"{Decimal(value):.1f}"


def order_json(order: Order) -> dict[str, Any]:
    """The order block of quotes and trades."""
    body: dict[str, Any] = {
        "input_mint": order.input_token.mint, "input_symbol": order.input_token.symbol,
        "output_mint": order.output_token.mint, "output_symbol": order.output_token.symbol,
        "swap_mode": order.swap_mode, "slippage_bps": order.slippage_bps,
    }
    key = "in_amount_atoms" if order.exact_in else "out_amount_atoms"
    body[key] = str(order.amount_atoms)
    return body


def option_json(o: VenueOption) -> dict[str, Any]:
    """One venue's option: amounts, cost breakdown, or why it is unavailable."""
    if not o.available:
        return {"venue": o.venue, "available": False, "reason": o.reason}
    return {
        "venue": o.venue, "available": True, "in_amount_atoms": text(o.in_amount_atoms),
        "out_amount_atoms": text(o.out_amount_atoms), "price_impact_bps": bps(o.price_impact_bps),
        "spread_bps": bps(o.spread_bps), "fee_atoms": text(o.fee_atoms), "fee_bps": bps(o.fee_bps),
        "execution_cost_bps": bps(o.execution_cost_bps), "delay_risk_bps": bps(o.delay_risk_bps),
        "cost_bps": bps(o.cost_bps), "delay_ms": o.delay_ms, "detail": o.detail,
    }


def leg_json(leg: Leg, exact: bool = False) -> dict[str, Any]:
    """A leg of a decision; a split leg adds its cut-point (marginal) cost, fee and delay (bps exact or to 0.1)."""
    fmt = text if exact else bps
    body: dict[str, Any] = {"venue": leg.venue, "in_amount_atoms": str(leg.in_amount_atoms),
                            "out_amount_atoms": str(leg.out_amount_atoms), "cost_bps": fmt(leg.cost_bps)}
    if leg.marginal_cost_bps is not None:
        body["marginal_cost_bps"] = fmt(leg.marginal_cost_bps)
    if leg.fee_atoms is not None:
        body["fee_atoms"] = str(leg.fee_atoms)
    if leg.delay_ms is not None:
        body["delay_ms"] = leg.delay_ms
    return body


def decision_json(d: Decision, exact: bool = False) -> dict[str, Any]:
    """The decision block of a quote: bps to 0.1 for display, or every Decimal as it is (`exact`, for storage)."""
    fmt = text if exact else bps
    return {
        "venue": d.venue, "legs": [leg_json(leg, exact) for leg in d.legs],
        "in_amount_atoms": str(d.in_amount_atoms), "out_amount_atoms": str(d.out_amount_atoms),
        "cost_bps": fmt(d.cost_bps), "min_out_amount_atoms": text(d.min_out_amount_atoms),
        "max_in_amount_atoms": text(d.max_in_amount_atoms),
        "jupiter_only_in_amount_atoms": text(d.jupiter_only_in_amount_atoms),
        "jupiter_only_out_amount_atoms": text(d.jupiter_only_out_amount_atoms),
        "savings_atoms": text(d.savings_atoms), "savings_bps": fmt(d.savings_bps),
        "explanation": d.explanation, "best_single_venue": d.best_single_venue,
        "best_single_in_amount_atoms": text(d.best_single_in_amount_atoms),
        "best_single_out_amount_atoms": text(d.best_single_out_amount_atoms),
        "best_single_cost_bps": fmt(d.best_single_cost_bps),
        "split_gain_atoms": text(d.split_gain_atoms), "split_gain_bps": fmt(d.split_gain_bps),
    }


def decision_from_json(body: dict[str, Any]) -> Decision:
    """Rebuild a decision from `decision_json(d, exact=True)`: equal to d."""
    def opt_int(key: str) -> int | None:
        return None if body.get(key) is None else int(body[key])

    legs = tuple(Leg(leg["venue"], int(leg["in_amount_atoms"]), int(leg["out_amount_atoms"]),
                     Decimal(leg["cost_bps"]) if leg.get("cost_bps") else None,
                     Decimal(leg["marginal_cost_bps"]) if leg.get("marginal_cost_bps") else None,
                     int(leg["fee_atoms"]) if leg.get("fee_atoms") is not None else None,
                     leg.get("delay_ms")) for leg in body["legs"])
    return Decision(
        legs=legs, in_amount_atoms=int(body["in_amount_atoms"]), out_amount_atoms=int(body["out_amount_atoms"]),
        cost_bps=Decimal(body["cost_bps"]), min_out_amount_atoms=opt_int("min_out_amount_atoms"),
        max_in_amount_atoms=opt_int("max_in_amount_atoms"),
        jupiter_only_in_amount_atoms=opt_int("jupiter_only_in_amount_atoms"),
        jupiter_only_out_amount_atoms=opt_int("jupiter_only_out_amount_atoms"),
        savings_atoms=opt_int("savings_atoms"),
        savings_bps=Decimal(body["savings_bps"]) if body.get("savings_bps") is not None else None,
        explanation=body["explanation"], best_single_venue=body.get("best_single_venue"),
        best_single_in_amount_atoms=opt_int("best_single_in_amount_atoms"),
        best_single_out_amount_atoms=opt_int("best_single_out_amount_atoms"),
        best_single_cost_bps=Decimal(body["best_single_cost_bps"]) if body.get("best_single_cost_bps") else None,
        split_gain_atoms=opt_int("split_gain_atoms"),
        split_gain_bps=Decimal(body["split_gain_bps"]) if body.get("split_gain_bps") is not None else None,
    )
