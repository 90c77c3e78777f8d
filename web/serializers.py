"""JSON shapes of API.md: atoms as decimal strings, bps as decimal strings, times as ISO 8601 UTC with Z."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from core.router import Decision, Leg, Order, VenueOption
from core.tokens import token_by_mint
from web.formatting import iso_z as iso

if TYPE_CHECKING:
    from models import OTCPool, Trade
    from services.quoting import Gathered

__all__ = ["iso"]


def _s(value: int | Decimal | None) -> str | None:
    """Atoms or bps as a decimal string; None stays None."""
    return None if value is None else str(value)


def _bps(value: Decimal | None) -> str | None:
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
        "venue": o.venue, "available": True, "in_amount_atoms": _s(o.in_amount_atoms),
        "out_amount_atoms": _s(o.out_amount_atoms), "price_impact_bps": _bps(o.price_impact_bps),
        "spread_bps": _bps(o.spread_bps), "fee_atoms": _s(o.fee_atoms), "fee_bps": _bps(o.fee_bps),
        "execution_cost_bps": _bps(o.execution_cost_bps), "delay_risk_bps": _bps(o.delay_risk_bps),
        "cost_bps": _bps(o.cost_bps), "delay_ms": o.delay_ms, "detail": o.detail,
    }


def leg_json(leg: Leg) -> dict[str, Any]:
    """A leg of a decision; a split leg adds its cut-point (marginal) cost, fee and delay."""
    body: dict[str, Any] = {"venue": leg.venue, "in_amount_atoms": str(leg.in_amount_atoms),
                            "out_amount_atoms": str(leg.out_amount_atoms), "cost_bps": _bps(leg.cost_bps)}
    if leg.marginal_cost_bps is not None:
        body["marginal_cost_bps"] = _bps(leg.marginal_cost_bps)
    if leg.fee_atoms is not None:
        body["fee_atoms"] = str(leg.fee_atoms)
    if leg.delay_ms is not None:
        body["delay_ms"] = leg.delay_ms
    return body


def decision_json(d: Decision) -> dict[str, Any]:
    """The decision block of a quote."""
    return {
        "venue": d.venue, "legs": [leg_json(leg) for leg in d.legs],
        "in_amount_atoms": str(d.in_amount_atoms), "out_amount_atoms": str(d.out_amount_atoms),
        "cost_bps": _bps(d.cost_bps), "min_out_amount_atoms": _s(d.min_out_amount_atoms),
        "max_in_amount_atoms": _s(d.max_in_amount_atoms),
        "jupiter_only_in_amount_atoms": _s(d.jupiter_only_in_amount_atoms),
        "jupiter_only_out_amount_atoms": _s(d.jupiter_only_out_amount_atoms),
        "savings_atoms": _s(d.savings_atoms), "savings_bps": _bps(d.savings_bps),
        "explanation": d.explanation, "best_single_venue": d.best_single_venue,
        "best_single_in_amount_atoms": _s(d.best_single_in_amount_atoms),
        "best_single_out_amount_atoms": _s(d.best_single_out_amount_atoms),
        "best_single_cost_bps": _bps(d.best_single_cost_bps),
        "split_gain_atoms": _s(d.split_gain_atoms), "split_gain_bps": _bps(d.split_gain_bps),
    }


def quote_json(quote_id: str, expires_at: datetime, g: Gathered, d: Decision) -> dict[str, Any]:
    """The response of POST /api/v1/quotes."""
    return {
        "quote_id": quote_id, "expires_at": iso(expires_at), "quoted_at": iso(g.quoted_at),
        "mid_price": str(g.mid_price.quantize(Decimal("0.000000001"))),
        "order": order_json(g.order), "options": [option_json(o) for o in g.options],
        "decision": decision_json(d),
    }


def trade_json(t: Trade, detail: bool = False) -> dict[str, Any]:
    """A trade as the API returns it; `detail` adds the venues' quotes it was decided on."""
    body: dict[str, Any] = {
        "id": t.id, "status": t.status, "quote_id": t.quote_id, "pair": t.pair, "venue": t.venue,
        "order": {
            "input_mint": t.input_mint, "input_symbol": t.input_symbol, "output_mint": t.output_mint,
            "output_symbol": t.output_symbol, "swap_mode": t.swap_mode, "slippage_bps": t.slippage_bps,
        },
        "legs": [{"venue": leg.venue, "in_amount_atoms": str(leg.in_amount_atoms),
                  "out_amount_atoms": str(leg.out_amount_atoms), "fee_atoms": str(leg.fee_atoms),
                  "cost_bps": _bps(leg.cost_bps)} for leg in t.legs],
        "in_amount_atoms": str(t.in_amount_atoms), "out_amount_atoms": str(t.out_amount_atoms),
        "min_out_amount_atoms": _s(t.min_out_amount_atoms), "max_in_amount_atoms": _s(t.max_in_amount_atoms),
        "jupiter_only_out_amount_atoms": _s(t.jupiter_only_out_amount_atoms),
        "jupiter_only_in_amount_atoms": _s(t.jupiter_only_in_amount_atoms),
        "savings_atoms": _s(t.savings_atoms), "savings_bps": _bps(t.savings_bps),
        "savings_usd_atoms": str(t.savings_usd_atoms), "notional_usd_atoms": str(t.notional_usd_atoms),
        "cost_bps": _bps(t.cost_bps), "explanation": t.explanation, "error": t.error,
        "error_code": t.error_code, "failed_at": iso(t.failed_at) or None,
        "user_id": t.user_id, "latency_ms": t.latency_ms,
        "created_at": iso(t.created_at), "quoted_at": iso(t.quoted_at) or None,
        "executed_at": iso(t.executed_at) or None, "settled_at": iso(t.settled_at) or None,
    }
    if detail:
        body["options"] = t.options
    return body


def pool_json(p: OTCPool) -> dict[str, Any]:
    """An OTC pool: configuration and current stored inventory."""
    base, quote = token_by_mint(p.base_mint), token_by_mint(p.quote_mint)
    return {
        "id": p.id, "name": p.name, "venue": p.venue, "active": p.active,
        "base_mint": p.base_mint, "base_symbol": base.symbol, "quote_mint": p.quote_mint, "quote_symbol": quote.symbol,
        "base_spread_bps": str(p.base_spread_bps), "size_spread_bps": str(p.size_spread_bps),
        "size_exponent": str(p.size_exponent), "annual_vol_pct": str(p.annual_vol_pct), "vol_z": str(p.vol_z),
        "fee_bps": str(p.fee_bps), "min_trade_base_atoms": str(p.min_trade_base_atoms),
        "max_trade_base_atoms": str(p.max_trade_base_atoms), "target_base_atoms": str(p.target_base_atoms),
        "target_quote_atoms": str(p.target_quote_atoms), "replenish_pct_per_hour": str(p.replenish_pct_per_hour),
        "execution_delay_ms": p.execution_delay_ms, "delay_jitter_ms": p.delay_jitter_ms,
        "quote_ttl_ms": p.quote_ttl_ms, "base_atoms": str(p.base_atoms), "quote_atoms": str(p.quote_atoms),
        "inventory_at": iso(p.inventory_at), "updated_at": iso(p.updated_at),
    }


def decision_from_json(body: dict[str, Any]) -> Decision:
    """Rebuild a stored decision (a firm quote's) exactly."""
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
