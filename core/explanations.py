"""The sentences a trader reads about a route decision: who fills, at what all-in cost, against what.

Pure: formats the router's numbers, computes none of them.
"""
from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from core.orders import Decision, Leg, Order, VenueOption
from core.tokens import format_ui
from core.venue import JUPITER


def _refused(options: Sequence[VenueOption], used: set[str]) -> str:
    """'; not used: venue (reason); ...' for venues that could not quote, or ''."""
    refused = [o for o in options if not o.available and o.venue not in used]
    return "; not used: " + "; ".join(f"{o.venue} ({o.reason})" for o in refused) if refused else ""


def timing_note(options: Sequence[VenueOption]) -> str:
    """'; timing risk: X bps on jupiter (800 ms), none on dealers' firm quotes' for the venues that quoted, or ''."""
    usable = [o for o in options if o.available]
    charged = [o for o in usable if o.delay_risk_bps]
    firm = [o for o in usable if not o.delay_risk_bps]
    parts = [f"{o.delay_risk_bps:.1f} bps on {o.venue} ({o.delay_ms} ms)" for o in charged]
    if firm:
        parts.append("none on " + ", ".join(o.venue for o in firm) + " (firm quotes)")
    return "; timing risk: " + ", ".join(parts) if parts else ""


def single(order: Order, best: VenueOption, usable: Sequence[VenueOption], options: Sequence[VenueOption]) -> str:
    """One venue fills all: its all-in cost against each other venue's."""
    amount = format_ui(order.amount_atoms, order.amount_token.decimals, None)
    verb = "fills all" if order.exact_in else "delivers all"
    text = f"{best.venue} {verb} {amount} {order.amount_token.symbol} at {best.cost_bps:.1f} bps all-in"
    others = sorted((o for o in usable if o is not best),
                    key=lambda o: (o.cost_bps, -(o.out_amount_atoms or 0), o.in_amount_atoms or 0, o.delay_ms, o.venue))
    if others:
        text += " vs " + ", ".join(f"{o.cost_bps:.1f} bps on {o.venue}" for o in others)
    return text + timing_note(options) + _refused(options, {best.venue})


def split(order: Order, d: Decision, options: Sequence[VenueOption]) -> str:
    """A split: each leg's size, venue, all-in and cut-point cost, then the gain vs best single and Jupiter-only."""
    unit, dec = order.amount_token.symbol, order.amount_token.decimals
    gained = order.output_token if order.exact_in else order.input_token

    def size(leg: Leg) -> str:
        return format_ui(leg.in_amount_atoms if order.exact_in else leg.out_amount_atoms, dec, 2)

    def versus(atoms: int | None, bps: Decimal | None, what: str) -> str:
        sign = "+" if (atoms or 0) >= 0 else "-"
        return f"{sign}{format_ui(abs(atoms or 0), gained.decimals, 2)} {gained.symbol} ({bps:.1f} bps) vs {what}"

    legs = ", ".join(f"{size(leg)} {unit} on {leg.venue} at {leg.cost_bps:.1f} bps all-in "
                     f"({leg.marginal_cost_bps:.1f} bps at the cut)" for leg in d.legs)
    text = f"split {format_ui(order.amount_atoms, dec, None)} {unit}: {legs}; {d.cost_bps:.1f} bps all-in"
    if d.best_single_venue is not None:
        text += ", " + versus(d.split_gain_atoms, d.split_gain_bps, f"{d.best_single_venue} alone")
    if d.savings_atoms is not None and d.best_single_venue != JUPITER:  # else it was just said
        text += ", " + versus(d.savings_atoms, d.savings_bps, "Jupiter only")
    return text + timing_note(options) + _refused(options, {leg.venue for leg in d.legs})
