"""Read-side queries for pages and the API: trade pages and aggregates computed in SQL."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select

from models import OTCPool, Trade, db


def trade_page(*, limit: int, before_id: int | None = None, venue: str | None = None, status: str | None = None,
               pair: str | None = None, since: datetime | None = None, until: datetime | None = None,
               user_id: int | None = None) -> list[Trade]:
    """Trades newest first (by id), keyset-paginated: ids below `before_id`."""
    q = select(Trade).order_by(Trade.id.desc()).limit(limit)
    if before_id is not None:
        q = q.where(Trade.id < before_id)
    if venue:
        q = q.where(Trade.venue == venue)
    if status:
        q = q.where(Trade.status == status)
    if pair:
        q = q.where(Trade.pair == pair)
    if since:
        q = q.where(Trade.created_at >= since)
    if until:
        q = q.where(Trade.created_at < until)
    if user_id is not None:
        q = q.where(Trade.user_id == user_id)
    return list(db.session.scalars(q))


def summary(since: datetime | None = None) -> dict[str, Any]:
    """Totals of filled trades over a window: count, USD volume and savings, route mix; one SQL pass each."""
    filled = Trade.status == "filled"
    where = [filled] if since is None else [filled, Trade.created_at >= since]
    row = db.session.execute(
        select(func.count(), func.coalesce(func.sum(Trade.notional_usd_atoms), 0),
               func.coalesce(func.sum(Trade.savings_usd_atoms), 0),
               func.sum(case((Trade.venue != "jupiter", 1), else_=0))).where(*where)
    ).one()
    count, volume, saved, otc_count = int(row[0]), int(row[1]), int(row[2]), int(row[3] or 0)
    mix = db.session.execute(
        select(Trade.venue, func.count(), func.coalesce(func.sum(Trade.notional_usd_atoms), 0))
        .where(*where).group_by(Trade.venue).order_by(Trade.venue)
    ).all()
    status_where = [] if since is None else [Trade.created_at >= since]
    statuses = dict(db.session.execute(select(Trade.status, func.count()).where(*status_where)
                                       .group_by(Trade.status)).all())
    return {
        "since": since.isoformat().replace("+00:00", "Z") if since else None,
        "trades": count,
        "trades_by_status": {k: int(v) for k, v in sorted(statuses.items())},
        "volume_usd_atoms": str(volume),
        "savings_usd_atoms": str(saved),
        "savings_bps": f"{(saved * 10_000 / volume):.1f}" if volume else "0.0",
        "otc_share_pct": f"{(otc_count * 100 / count):.1f}" if count else "0.0",
        "route_mix": [{"venue": v, "trades": int(n), "volume_usd_atoms": str(int(vol))} for v, n, vol in mix],
    }


def pool_stats() -> dict[int, dict[str, int]]:
    """Per pool: filled legs, base and quote atoms traded."""
    from models import TradeLeg

    rows = db.session.execute(
        select(TradeLeg.pool_id, func.count(), func.coalesce(func.sum(TradeLeg.in_amount_atoms), 0))
        .join(Trade, Trade.id == TradeLeg.trade_id).where(Trade.status == "filled", TradeLeg.pool_id.is_not(None))
        .group_by(TradeLeg.pool_id)
    ).all()
    return {int(pid): {"legs": int(n), "in_atoms": int(total)} for pid, n, total in rows}


def pools() -> list[OTCPool]:
    """Every pool in id order."""
    return list(db.session.scalars(select(OTCPool).order_by(OTCPool.id)))
