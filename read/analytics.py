"""Read-side queries for pages and the API: trade pages, totals and per-pool figures, aggregated in SQL.

Chart series (time buckets, size buckets, route mix) live in analytics_charts.py.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Numeric, Select, case, cast, func, select, tuple_

import otc_engine
import trade_logger
from core.tokens import token_by_mint
from core.units import bps_text, iso_z
from core.venue import JUPITER, Venue
from ledger.rollups import leg_usd
from models import OTCPool, Trade, TradeLeg, db
from read import rollup_reader
from read.rollup_reader import distinct_trade_values

# History sort keys: column a trader sorts by → the Trade column behind it (ties broken by id).
SORTS: dict[str, Any] = {
    "time": Trade.created_at,
    "size": Trade.notional_usd_atoms,
    "savings": Trade.savings_usd_atoms,
}


def _page(stmt: Select[tuple[Trade]], limit: int) -> tuple[list[Trade], bool]:
    """The first `limit` trades of an ordered statement and whether any follow: one query for limit + 1 rows.

    The one home of "is there a next page": a page that ends exactly on the last trade has none.
    """
    rows = list(db.session.scalars(stmt.limit(limit + 1)))
    return rows[:limit], len(rows) > limit


def trade_page(*, limit: int, before_id: int | None = None, venue: str | None = None, status: str | None = None,
               pair: str | None = None, since: datetime | None = None, until: datetime | None = None,
               user_id: int | None = None) -> tuple[list[Trade], str | None]:
    """Trades newest first (by id), keyset-paginated (ids below `before_id`), and the next page's cursor or None."""
    q = select(Trade).order_by(Trade.id.desc())
    if before_id is not None:
        q = q.where(Trade.id < before_id)
    q = q.where(*_filters(venue=venue, status=status, pair=pair, since=since, until=until, user_id=user_id))
    rows, more = _page(q, limit)
    return rows, (str(rows[-1].id) if more and rows else None)


def _filters(*, venue: str | None = None, status: str | None = None, pair: str | None = None,
             since: datetime | None = None, until: datetime | None = None,
             user_id: int | None = None) -> list[ColumnElement[bool]]:
    """WHERE clauses of the history filters; `until` is exclusive."""
    where: list[ColumnElement[bool]] = []
    if venue:
        where.append(Trade.venue == venue)
    if status:
        where.append(Trade.status == status)
    if pair:
        where.append(Trade.pair == pair)
    if since:
        where.append(Trade.created_at >= since)
    if until:
        where.append(Trade.created_at < until)
    if user_id is not None:
        where.append(Trade.user_id == user_id)
    return where


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    """Filters, sort and keyset cursor of the history page; `until` is exclusive (UTC)."""

    venue: str | None = None
    status: str | None = None
    pair: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    sort: str = "time"
    descending: bool = True
    cursor: str | None = None

    def __post_init__(self) -> None:
        """Refuse an unknown sort key."""
        if self.sort not in SORTS:
            raise ValueError(f"sort must be one of {', '.join(SORTS)}")


def encode_cursor(sort: str, trade: Trade) -> str:
    """The keyset cursor after `trade` for a sort: '<value>~<id>' (times as ISO 8601 with microseconds)."""
    value = getattr(trade, SORTS[sort].key)
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return f"{text}~{trade.id}"


MAX_BIGINT = 2**63 - 1  # cursor values beyond a BIGINT column are not ours


def _decode_cursor(sort: str, cursor: str) -> tuple[Any, int]:
    """(value, id) from a cursor; ValueError when it was not made by encode_cursor."""
    text, sep, id_text = cursor.rpartition("~")
    if not sep or not (id_text.isascii() and id_text.isdigit()) or int(id_text) > MAX_BIGINT:
        raise ValueError("cursor must be the one the previous page linked to")
    if sort == "time":
        value: Any = datetime.fromisoformat(text)
        if value.tzinfo is None or not 1970 <= value.year <= 9998:
            raise ValueError("cursor time must carry a timezone and lie between 1970 and 9998")
    else:
        value = int(text)
        if abs(value) > MAX_BIGINT:
            raise ValueError("cursor must be the one the previous page linked to")
    return value, int(id_text)


def history_page(query: HistoryQuery, limit: int) -> tuple[list[Trade], str | None]:
    """One page of trades in the query's order and the cursor of the next page (None on the last page)."""
    col = SORTS[query.sort]
    where = _filters(venue=query.venue, status=query.status, pair=query.pair, since=query.since, until=query.until)
    if query.cursor:
        value, last_id = _decode_cursor(query.sort, query.cursor)
        key = tuple_(col, Trade.id)  # a row comparison: one range scan of the (sort column, id) index
        where.append(key < (value, last_id) if query.descending else key > (value, last_id))
    order = (col.desc(), Trade.id.desc()) if query.descending else (col.asc(), Trade.id.asc())
    rows, more = _page(select(Trade).where(*where).order_by(*order), limit)
    return rows, (encode_cursor(query.sort, rows[-1]) if more and rows else None)


def history_rows(query: HistoryQuery, cap: int) -> Iterator[Trade]:
    """Every trade matching the query's filters in its order, streamed in chunks (at most `cap`), for CSV."""
    col = SORTS[query.sort]
    where = _filters(venue=query.venue, status=query.status, pair=query.pair, since=query.since, until=query.until)
    order = (col.desc(), Trade.id.desc()) if query.descending else (col.asc(), Trade.id.asc())
    stmt = select(Trade).where(*where).order_by(*order).limit(cap).execution_options(yield_per=500)
    yield from db.session.scalars(stmt)


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
        span = _filters(since=since, until=until)
        where = [Trade.status == "filled", *span]
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
        .where(Trade.status == "filled").group_by(TradeLeg.pool_id)
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
