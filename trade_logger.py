"""The apply step: the only module that writes trades, legs, pool inventory and metrics, and commits.

One transaction per trade. Pool inventory moves by a conditional UPDATE (WHERE version = read version) after
locking the pool rows in id order (SELECT ... FOR UPDATE on PostgreSQL), so two workers never sell the same
liquidity and split trades cannot deadlock.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

import otc_engine
from models import OTCPool, Quote, SystemMetrics, Trade, TradeLeg, db
from router import Decision, Order

MAX_INVENTORY_RETRIES = 5


class FillRejected(Exception):
    """A trade could not be applied; nothing moved. `code` is the API error code."""

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(message)


class DuplicateTrade(Exception):
    """A trade with this idempotency key or quote id already exists: `trade_id` is the first one."""

    def __init__(self, trade_id: int | None):
        self.trade_id = trade_id
        super().__init__("duplicate trade")


@dataclass(frozen=True, slots=True)
class LegFill:
    """A leg to apply: venue, pool row id (OTC only), atoms in/out, fee and delay."""

    venue: str
    pool_id: int | None
    input_mint: str
    in_amount_atoms: int
    out_amount_atoms: int
    fee_atoms: int = 0
    cost_bps: Decimal | None = None
    delay_ms: int = 0


@dataclass(frozen=True, slots=True)
class FillPlan:
    """Everything the apply step records for one trade."""

    order: Order
    decision: Decision
    legs: tuple[LegFill, ...]
    options: list[dict[str, Any]]
    quoted_at: datetime
    notional_usd_atoms: int
    savings_usd_atoms: int
    price_impact_bps: Decimal | None = None
    quote_id: str | None = None
    idempotency_key: str | None = None
    request_hash: str | None = None
    user_id: int | None = None
    latency_ms: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def pool_params(row: OTCPool) -> otc_engine.PoolParams:
    """The engine's view of a pool row."""
    from tokens import token_by_mint

    return otc_engine.PoolParams(
        name=row.name, base_mint=row.base_mint, quote_mint=row.quote_mint,
        base_decimals=token_by_mint(row.base_mint).decimals, quote_decimals=token_by_mint(row.quote_mint).decimals,
        base_spread_bps=Decimal(row.base_spread_bps), size_spread_bps=Decimal(row.size_spread_bps),
        size_exponent=Decimal(row.size_exponent), annual_vol_pct=Decimal(row.annual_vol_pct),
        vol_z=Decimal(row.vol_z), fee_bps=Decimal(row.fee_bps), min_trade_base_atoms=row.min_trade_base_atoms,
        max_trade_base_atoms=row.max_trade_base_atoms, target_base_atoms=row.target_base_atoms,
        target_quote_atoms=row.target_quote_atoms, replenish_pct_per_hour=Decimal(row.replenish_pct_per_hour),
        execution_delay_ms=row.execution_delay_ms, delay_jitter_ms=row.delay_jitter_ms,
        quote_ttl_ms=row.quote_ttl_ms, active=row.active,
    )


def pool_inventory(row: OTCPool) -> otc_engine.Inventory:
    """The engine's view of a pool row's stored inventory."""
    return otc_engine.Inventory(base_atoms=row.base_atoms, quote_atoms=row.quote_atoms, as_of=row.inventory_at)


def _move_inventory(pool_id: int, legs: Iterable[LegFill], now: datetime) -> None:
    """Replenish a locked pool to `now`, check the payouts, and apply the legs by a conditional UPDATE."""
    for _ in range(MAX_INVENTORY_RETRIES):
        row = db.session.execute(
            select(OTCPool).where(OTCPool.id == pool_id).with_for_update().execution_options(populate_existing=True)
        ).scalar_one()
        params = pool_params(row)
        inv = otc_engine.replenish(params, pool_inventory(row), now)
        base, quote = inv.base_atoms, inv.quote_atoms
        for leg in legs:
            if leg.input_mint == row.base_mint:
                base, quote = base + leg.in_amount_atoms, quote - leg.out_amount_atoms
            else:
                base, quote = base - leg.out_amount_atoms, quote + leg.in_amount_atoms
        if not row.active:
            raise FillRejected("POOL_INACTIVE", f"{row.venue} was deactivated before the trade executed")
        if base < 0 or quote < 0:
            raise FillRejected("INSUFFICIENT_LIQUIDITY",
                               f"{row.venue} no longer has the inventory for this fill; nothing was executed")
        result = db.session.execute(
            update(OTCPool).where(OTCPool.id == pool_id, OTCPool.version == row.version).values(
                base_atoms=base, quote_atoms=quote, inventory_at=max(now, row.inventory_at),
                replenished_base_atoms=OTCPool.replenished_base_atoms + (inv.base_atoms - row.base_atoms),
                replenished_quote_atoms=OTCPool.replenished_quote_atoms + (inv.quote_atoms - row.quote_atoms),
                version=OTCPool.version + 1,
            ).execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            return
    raise FillRejected("CONTENTION", "the pool was too busy to lock; nothing was executed, please retry")


def record_fill(plan: FillPlan, now: datetime) -> Trade:
    """Apply a fill in one transaction: lock and move OTC inventory, insert the trade and legs, commit.

    Raises FillRejected (nothing moved) or DuplicateTrade (the key or quote was used already).
    """
    try:
        by_pool: dict[int, list[LegFill]] = {}
        for leg in plan.legs:
            if leg.pool_id is not None:
                by_pool.setdefault(leg.pool_id, []).append(leg)
        for pool_id in sorted(by_pool):  # lock order by id: split trades never deadlock
            _move_inventory(pool_id, by_pool[pool_id], now)
        trade = _trade_row(plan, "filled", now)
        delay_ms = max((leg.delay_ms for leg in plan.legs), default=0)
        trade.executed_at = now
        trade.settled_at = now + timedelta(milliseconds=delay_ms)
        db.session.add(trade)
        db.session.flush()
        if plan.quote_id:
            _mark_quote_used(plan.quote_id, trade.id, now)
        db.session.commit()
        return trade
    except IntegrityError:
        db.session.rollback()
        raise DuplicateTrade(_existing_trade_id(plan)) from None
    except BaseException:
        db.session.rollback()
        raise


def _mark_quote_used(quote_id: str, trade_id: int, now: datetime) -> None:
    """Mark a firm quote used, once: a second use finds used_at set and fails."""
    result = db.session.execute(
        update(Quote).where(Quote.id == quote_id, Quote.used_at.is_(None)).values(used_at=now, trade_id=trade_id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise IntegrityError("quote already used", None, Exception(quote_id))


def record_rejection(plan: FillPlan | None, order: Order, reason: str, now: datetime, **fields: Any) -> Trade:
    """Record a rejected trade (no liquidity moved) in its own transaction."""
    if plan is not None:
        trade = _trade_row(plan, "rejected", now)
    else:
        trade = Trade(status="rejected", **_order_fields(order), venue="none", in_amount_atoms=0,
                      out_amount_atoms=0, explanation="", options=[], created_at=now, **fields)
    trade.error = reason
    trade.legs = []
    db.session.add(trade)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise DuplicateTrade(_existing_trade_id(plan)) from None
    return trade


def _order_fields(order: Order) -> dict[str, Any]:
    """Columns that describe the order itself."""
    return {
        "pair": order.pair, "input_mint": order.input_token.mint, "output_mint": order.output_token.mint,
        "input_symbol": order.input_token.symbol, "output_symbol": order.output_token.symbol,
        "swap_mode": order.swap_mode, "slippage_bps": order.slippage_bps,
    }


def _trade_row(plan: FillPlan, status: str, now: datetime) -> Trade:
    """A Trade with its legs from a plan (not yet added to the session)."""
    d = plan.decision
    trade = Trade(
        status=status, quote_id=plan.quote_id, idempotency_key=plan.idempotency_key,
        request_hash=plan.request_hash, user_id=plan.user_id, **_order_fields(plan.order), venue=d.venue,
        in_amount_atoms=d.in_amount_atoms, out_amount_atoms=d.out_amount_atoms,
        min_out_amount_atoms=d.min_out_amount_atoms, max_in_amount_atoms=d.max_in_amount_atoms,
        jupiter_only_out_amount_atoms=d.jupiter_only_out_amount_atoms,
        jupiter_only_in_amount_atoms=d.jupiter_only_in_amount_atoms,
        savings_atoms=d.savings_atoms, savings_bps=d.savings_bps,
        notional_usd_atoms=plan.notional_usd_atoms, savings_usd_atoms=plan.savings_usd_atoms,
        price_impact_bps=plan.price_impact_bps, cost_bps=d.cost_bps, explanation=d.explanation,
        options=plan.options, latency_ms=plan.latency_ms, created_at=now, quoted_at=plan.quoted_at,
    )
    trade.legs = [
        TradeLeg(venue=leg.venue, pool_id=leg.pool_id, in_amount_atoms=leg.in_amount_atoms,
                 out_amount_atoms=leg.out_amount_atoms, fee_atoms=leg.fee_atoms, cost_bps=leg.cost_bps)
        for leg in plan.legs
    ]
    return trade


def _existing_trade_id(plan: FillPlan | None) -> int | None:
    """The trade that already holds this plan's idempotency key or quote id."""
    if plan is None:
        return None
    if plan.idempotency_key:
        found = db.session.scalar(select(Trade.id).where(Trade.idempotency_key == plan.idempotency_key))
        if found:
            return found
    if plan.quote_id:
        return db.session.scalar(select(Trade.id).where(Trade.quote_id == plan.quote_id))
    return None


def record_metrics_snapshot(stats: dict[str, Any], now: datetime, window_s: int = 60) -> SystemMetrics:
    """Store a SystemMetrics row from the Jupiter client's counters and the last window's trades."""
    from sqlalchemy import func

    since = now - timedelta(seconds=window_s)
    counts = dict(db.session.execute(
        select(Trade.status, func.count()).where(Trade.created_at >= since).group_by(Trade.status)
    ).all())
    volume = db.session.scalar(
        select(func.coalesce(func.sum(Trade.notional_usd_atoms), 0)).where(
            Trade.created_at >= since, Trade.status == "filled")
    )
    filled, rejected = counts.get("filled", 0), counts.get("rejected", 0) + counts.get("failed", 0)
    total = filled + rejected
    latencies = sorted(stats.get("recent_latencies_ms", []))
    row = SystemMetrics(
        recorded_at=now, jupiter_calls=stats.get("calls", 0), jupiter_errors=sum(stats.get("errors", {}).values()),
        jupiter_retries=stats.get("retries", 0), jupiter_p50_ms=_pct(latencies, 50),
        jupiter_p95_ms=_pct(latencies, 95), jupiter_p99_ms=_pct(latencies, 99),
        errors_by_kind=dict(stats.get("errors", {})), breaker_state=stats.get("breaker_state", "closed"),
        trades_filled=filled, trades_rejected=rejected, volume_usd_atoms=int(volume or 0),
        success_rate_pct=(Decimal(filled * 100) / total).quantize(Decimal("0.001")) if total else None,
    )
    db.session.add(row)
    db.session.commit()
    return row


def _pct(sorted_values: list[int], pct: int) -> int | None:
    """Nearest-rank percentile of an ascending list, or None when empty."""
    if not sorted_values:
        return None
    rank = max(1, -(-pct * len(sorted_values) // 100))
    return int(sorted_values[rank - 1])


def store_quote(row: Quote) -> None:
    """Persist a firm quote so it can be executed by id (never trusted from the client)."""
    db.session.add(row)
    db.session.commit()
