"""Read-side queries for pages and the API: totals and per-pool figures, aggregated in SQL.

The history (blotter) queries live in history.py; chart series (time buckets, size buckets, route mix) in series.py.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, case, cast, func, select

import otc_engine
import trade_logger
from core.tokens import token_by_mint
from core.units import bps_text, iso_z
from core.venue import JUPITER, Venue
from ledger.rollups import leg_usd
from models import EXECUTED, OTCPool, Trade, TradeLeg, db
from read import rollup_reader
from read.history import trade_filters
from read.rollup_reader import distinct_trade_values


def venues_seen() -> list[str]:
    """Distinct venues in the trades table plus every pool's venue, sorted, for the history filter."""
    seen = distinct_trade_values("venue")  # a loose index scan: one probe per venue, not every trade
    seen |= {str(Venue.otc(name)) for name in db.session.scalars(select(OTCPool.name))}
    seen |= {JUPITER}
    return sorted(seen)


def pairs_seen() -> list[str]:
    """Distinct pairs traded, sorted; the pools' pairs are always offered."""
    seen = distinct_trade_values("pair")
    for base, quote in db.session.execute(select(OTCPool.base_mint, OTCPool.quote_mint)).all():
        seen.add(f"{token_by_mint(base).symbol}/{token_by_mint(quote).symbol}")
    return sorted(seen)


def summary(since: datetime | None = None, until: datetime | None = None) -> dict[str, Any]:
    """Totals of filled trades over [since, until): count, USD volume and savings, route mix; one SQL pass each."""
    if rollup_reader.enabled():  # hourly rollups (issue 8); the per-trade queries below are the reference
        parts = rollup_reader.summary_parts(since, until)
        count, volume, saved, otc_count = parts["count"], parts["volume"], parts["saved"], parts["otc_count"]
        otc_volume, mix, statuses = parts["otc_volume"], parts["mix"], parts["statuses"]
    else:
        span = trade_filters(since=since, until=until)
        where = [Trade.status.in_(EXECUTED), *span]
        row = db.session.execute(
            select(func.count(), func.coalesce(func.sum(Trade.notional_usd_atoms), 0),
                   func.coalesce(func.sum(Trade.savings_usd_atoms), 0),
                   func.sum(case((Trade.venue != JUPITER, 1), else_=0)))
            .where(*where)
        ).one()
        count, volume, saved, otc_count = int(row[0]), int(row[1]), int(row[2]), int(row[3] or 0)
        otc_volume = int(Decimal(str(db.session.scalar(  # OTC legs' share of the notional (splits count partly)
            select(func.coalesce(func.sum(leg_usd()), 0)).select_from(Trade)
            .join(TradeLeg, TradeLeg.trade_id == Trade.id).where(*where, TradeLeg.pool_id.is_not(None))) or 0)))
        mix = db.session.execute(
            select(Trade.venue, func.count(), func.coalesce(func.sum(Trade.notional_usd_atoms), 0))
            .where(*where).group_by(Trade.venue).order_by(Trade.venue)
        ).all()
        statuses = dict(db.session.execute(select(Trade.status, func.count()).where(*span)
                                           .group_by(Trade.status)).all())
    return {
        "since": iso_z(since) or None,
        "trades": count,
        "trades_by_status": {k: int(v) for k, v in sorted(statuses.items())},
        "volume_usd_atoms": str(volume),
        "savings_usd_atoms": str(saved),
        "savings_bps": bps_text(saved, volume),
        "otc_share_pct": f"{(Decimal(otc_count * 100) / count).quantize(Decimal('0.1'))}" if count else "0.0",
        "otc_volume_share_pct": (f"{(Decimal(otc_volume * 100) / volume).quantize(Decimal('0.1'))}"
                                 if volume else "0.0"),
        "route_mix": [{"venue": v, "trades": int(n), "volume_usd_atoms": str(int(vol))} for v, n, vol in mix],
    }


def pool_stats() -> dict[int, dict[str, Any]]:
    """Per pool id: filled legs, legs that were part of a split, base atoms traded (either direction), and savings.

    A trade's savings against Jupiter-only routing come from its OTC legs, so they are shared among its OTC legs
    by input atoms (a whole-order OTC fill keeps all of it; the Jupiter leg of a split gets none).
    """
    otc_in = (select(TradeLeg.trade_id.label("trade_id"), func.sum(TradeLeg.in_amount_atoms).label("atoms"))
              .where(TradeLeg.pool_id.is_not(None)).group_by(TradeLeg.trade_id).subquery())
    base_traded = case((Trade.input_mint == OTCPool.base_mint, TradeLeg.in_amount_atoms),
                       else_=TradeLeg.out_amount_atoms)
    share = cast(Trade.savings_usd_atoms, Numeric(38, 0)) * TradeLeg.in_amount_atoms / func.nullif(otc_in.c.atoms, 0)
    rows = db.session.execute(
        select(TradeLeg.pool_id, func.count(), func.coalesce(func.sum(base_traded), 0),
               func.coalesce(func.sum(share), 0), func.sum(case((Trade.venue == "split", 1), else_=0)),
               func.max(Trade.created_at))
        .join(Trade, Trade.id == TradeLeg.trade_id).join(OTCPool, OTCPool.id == TradeLeg.pool_id)
        .join(otc_in, otc_in.c.trade_id == Trade.id)
        .where(Trade.status.in_(EXECUTED)).group_by(TradeLeg.pool_id)
    ).all()
    return {int(pid): {"legs": int(n), "base_atoms": int(base), "savings_usd_atoms": int(Decimal(str(saved))),
                       "split_legs": int(split or 0), "last_at": last}
            for pid, n, base, saved, split, last in rows}


def pools() -> list[OTCPool]:
    """Every pool in id order."""
    return list(db.session.scalars(select(OTCPool).order_by(OTCPool.id)))


def _pct_text(part: int, whole: int) -> str:
    """part/whole in percent with one decimal, never negative and NOT capped: a pool above its target says so
    (the gauge bar itself is clamped to 0..100 % in static/js); '0.0' when whole is 0."""
    if whole <= 0:
        return "0.0"
    return f"{max(Decimal(0), Decimal(part * 100) / Decimal(whole)).quantize(Decimal('0.1'))}"


def pool_live(pool: OTCPool, now: datetime) -> dict[str, Any]:
    """A pool's inventory replenished to `now` (what the next quote sees) against its targets, in atoms and %."""
    inv = otc_engine.replenish(trade_logger.pool_params(pool), trade_logger.pool_inventory(pool), now)
    base, quote = token_by_mint(pool.base_mint), token_by_mint(pool.quote_mint)
    return {
        "id": pool.id, "name": pool.name, "venue": pool.venue, "active": pool.active,
        "base_symbol": base.symbol, "base_decimals": base.decimals, "base_mint": base.mint,
        "quote_symbol": quote.symbol, "quote_decimals": quote.decimals, "quote_mint": quote.mint,
        "base_atoms": str(inv.base_atoms), "target_base_atoms": str(pool.target_base_atoms),
        "quote_atoms": str(inv.quote_atoms), "target_quote_atoms": str(pool.target_quote_atoms),
        "base_pct": _pct_text(inv.base_atoms, pool.target_base_atoms),
        "quote_pct": _pct_text(inv.quote_atoms, pool.target_quote_atoms),
        # how far the more-drawn side is below its target: 0 % = both sides full
        "utilisation_pct": str(max(Decimal(0), Decimal(100) - min(
            Decimal(_pct_text(inv.base_atoms, pool.target_base_atoms)),
            Decimal(_pct_text(inv.quote_atoms, pool.target_quote_atoms))))),
    }
