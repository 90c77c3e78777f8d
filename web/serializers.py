"""JSON shapes of API.md: atoms as decimal strings, bps as decimal strings, times as ISO 8601 UTC with Z."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from core.codec import bps as _bps
from core.codec import text as _s
from core.tokens import TOKENS, token_by_mint
from core.units import iso_z as iso
from ledger import maker_log
from ledger.parent_orders import FILLED
from read import analytics, history
from read.tca import tca_json
from services import alerts
from services.makers import state_of
from services.parent_estimates import cost_usd_atoms
from services.parent_progress import Progress

if TYPE_CHECKING:
    from ledger.maker_tables import Maker
    from models import OTCPool, Trade

__all__ = ["iso"]


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
                  "cost_bps": _bps(leg.cost_bps), "tx_signature": leg.tx_signature, "slot": leg.slot}
                 for leg in t.legs],
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
        "tca": tca_json(t),
    }
    if detail:
        body["options"] = t.options
        body["rfq_attempts"] = [  # last look at each maker, in order (both attempts of a re-routed leg)
            {"venue": a.venue, "quote_id": a.quote_id, "state": a.state, "reason": a.reason,
             "latency_ms": a.latency_ms, "rerouted_to": a.rerouted_to, "in_amount_atoms": str(a.in_amount_atoms),
             "out_amount_atoms": str(a.out_amount_atoms)} for a in maker_log.swaps_of_trade(t.id)] if t.id else []
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


def dashboard_json(now: datetime, low_water_pct: Decimal) -> dict[str, Any]:
    """Everything the dashboard shows: today's and all-time totals, the latest trades, live pool inventory, and the
    liquidity alerts (pools below low_water_pct of target, suspended makers)."""
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    pools = analytics.pools()
    return {
        "at": iso(now), "today": analytics.summary(today), "all_time": analytics.summary(),
        "trades": [trade_json(t) for t in history.trade_page(limit=12)[0]],
        "pools": [analytics.pool_live(p, now) for p in pools],
        "alerts": alerts.desk_alerts(now, low_water_pct, pools=pools),
        "tokens": {t.mint: {"symbol": t.symbol, "decimals": t.decimals} for t in TOKENS},
    }


def maker_json(m: Maker, now: datetime) -> dict[str, Any]:
    """An RFQ maker: configuration and state; the API key never leaves the server (`has_api_key` only)."""
    return {"id": m.id, "name": m.name, "venue": m.venue, "base_url": m.base_url, "has_api_key": m.has_api_key,
            "enabled": m.enabled, "state": state_of(m, now), "timeout_ms": m.timeout_ms,
            "suspended_until": iso(m.suspended_until) if m.suspended_until else None, "fail_streak": m.fail_streak,
            "suspensions": m.suspensions, "last_error": m.last_error, "tokens": list(m.tokens or []),
            "tokens_at": iso(m.tokens_at) if m.tokens_at else None, "sim_behaviour": m.sim_behaviour,
            "created_at": iso(m.created_at), "updated_at": iso(m.updated_at)}
def parent_json(p: Progress) -> dict[str, Any]:
    """A parent order as the API returns it: status, amounts (atoms), progress, slices and children (trade JSON)."""
    o = p.parent
    return {
        "id": o.id, "status": o.status, "strategy": o.strategy, "user_id": o.user_id,
        "order": {"input_mint": o.input_mint, "input_symbol": token_by_mint(o.input_mint).symbol,
                  "output_mint": o.output_mint, "output_symbol": token_by_mint(o.output_mint).symbol,
                  "swap_mode": o.swap_mode, "slippage_bps": o.slippage_bps},
        "amount_atoms": str(o.amount_atoms), "filled_atoms": str(p.filled_atoms),
        "remaining_atoms": str(o.amount_atoms - p.filled_atoms), "scheduled_atoms": str(p.scheduled_atoms),
        "other_side_atoms": str(p.out_atoms), "duration_s": o.duration_s, "slices": o.slices,
        "limit_price": _plain(o.limit_price), "arrival_mid": _plain(o.arrival_mid),
        "avg_price": _plain(p.avg_price.quantize(Decimal("1e-9")) if p.avg_price is not None else None),
        "shortfall_bps": _s(p.shortfall_bps), "shortfall_usd_atoms": _shortfall_usd(p), "note": o.note,
        "created_at": iso(o.created_at), "start_at": iso(o.start_at), "deadline_at": iso(o.deadline_at),
        "next_due_at": iso(o.next_due_at) or None, "finished_at": iso(o.finished_at) or None,
        "timeline": [{"index": s.index, "attempt": s.attempt, "status": s.status,
                      "planned_atoms": str(s.planned_atoms), "trade_id": s.trade_id, "sent_at": iso(s.sent_at),
                      "done_at": iso(s.done_at) or None, "note": s.note} for s in p.slices],
        "children": [trade_json(p.trades[s.trade_id]) for s in p.slices if s.trade_id in p.trades],
    }


def _shortfall_usd(p: Progress) -> str | None:
    """The shortfall in USD atoms (rounded up): shortfall_bps of the filled children's notional; None before a fill."""
    if p.shortfall_bps is None:
        return None
    notional = sum(p.trades[s.trade_id].notional_usd_atoms for s in p.slices
                   if s.status == FILLED and s.trade_id in p.trades)
    return str(cost_usd_atoms(notional, p.shortfall_bps))


def _plain(value: Decimal | None) -> str | None:
    """A decimal as plain digits without trailing zeros (never an exponent, never rounded); None stays None."""
    if value is None:
        return None
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
