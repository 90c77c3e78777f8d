"""The rollups' SQL expressions: the per-trade and per-leg rows a rollup sums, and their grouping (hourly or daily).

One home for them: the incremental upserts (ledger.rollup_sql), the rebuild (ledger.rollups.backfill) and the
analytics' live tail (read.rollup_reader) all read these very expressions, so a rollup always equals a rebuild.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, Integer, Numeric, case, cast, func, literal, select
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from ledger.rollup_days import DAY_S
from models import Quote, Trade, TradeLeg

FINISHED = ("filled", "partial", "rejected", "failed")
# Trade-size buckets by USD notional (whole USD): lower edges, each bucket up to the next edge.
SIZE_EDGES_USD = (0, 10_000, 100_000, 1_000_000, 5_000_000)
HOUR_S = 3_600
SUM = Numeric()  # unconstrained NUMERIC: sums of bps (4 decimals) and slippage fractions stay exact on PostgreSQL
TRADE_KEYS = ("hour_s", "status", "venue", "pair", "input_symbol", "output_symbol", "size_bucket")
TRADE_SUMS = ("trades", "volume_usd_atoms", "savings_usd_atoms", "otc_volume_usd_atoms", "cost_bps_sum",
              "cost_bps_n", "impact_bps_sum", "impact_bps_n", "quote_fills", "slip_centi_bps_sum",
              "slip_centi_bps_n")
LEG_KEYS = ("hour_s", "venue", "status")
LEG_SUMS = ("legs", "volume_usd_atoms")
DAILY_KEYS = {"trade_rollups_hourly": ("day_s", *TRADE_KEYS[1:]), "trade_leg_rollups_hourly": ("day_s", *LEG_KEYS[1:])}


def epoch_s(col: Any, dialect: str) -> ColumnElement[int]:
    """Epoch seconds of a timestamp column as an integer, on SQLite and PostgreSQL (as analytics_charts does)."""
    if dialect == "sqlite":
        return cast(func.strftime("%s", col), Integer)
    return cast(func.floor(func.extract("epoch", col)), BigInteger)


def leg_usd() -> ColumnElement[Any]:
    """A leg's share of its trade's USD notional, by input atoms (SQL number; display precision); analytics reads it."""
    return cast(Trade.notional_usd_atoms, Numeric(38, 0)) * TradeLeg.in_amount_atoms / func.nullif(
        Trade.in_amount_atoms, 0)


def size_bucket() -> ColumnElement[int]:
    """Index of the trade's USD-notional bucket (SIZE_EDGES_USD: lower edges, in whole USD)."""
    edges = [e * 10**6 for e in SIZE_EDGES_USD]
    return case(*[(Trade.notional_usd_atoms < edge, i - 1) for i, edge in enumerate(edges) if i > 0],
                else_=len(edges) - 1)


def slip_centi_bps() -> ColumnElement[Any]:
    """Realised slippage of a quote fill in 1/100 bp (the analytics expression): positive = worse than quoted."""
    q_out = cast(Quote.payload[("decision", "out_amount_atoms")].as_string(), Numeric(38, 0))
    q_in = cast(Quote.payload[("decision", "in_amount_atoms")].as_string(), Numeric(38, 0))
    return case((Trade.swap_mode == "ExactIn", (q_out - Trade.out_amount_atoms) * 1_000_000 / q_out),
                else_=(Trade.in_amount_atoms - q_in) * 1_000_000 / q_in)


def per_trade(dialect: str, *where: ColumnElement[bool]) -> Select[Any]:
    """One row per finished trade matching `where`: its created_at (t_s), hour, rollup keys and contributions."""
    t_s = epoch_s(Trade.created_at, dialect)
    otc_usd = (select(func.coalesce(func.sum(leg_usd()), 0)).where(TradeLeg.trade_id == Trade.id,
                                                                    TradeLeg.pool_id.is_not(None))
               .correlate(Trade).scalar_subquery())
    slip = slip_centi_bps()
    quoted = Quote.id.is_not(None)
    return (select(t_s.label("t_s"), ((t_s // HOUR_S) * HOUR_S).label("hour_s"), Trade.status, Trade.venue,
                   Trade.pair, Trade.input_symbol, Trade.output_symbol, size_bucket().label("size_bucket"),
                   literal(1, BigInteger).label("trades"), Trade.notional_usd_atoms.label("volume_usd_atoms"),
                   Trade.savings_usd_atoms.label("savings_usd_atoms"), otc_usd.label("otc_volume_usd_atoms"),
                   Trade.cost_bps.label("cost_bps_sum"),
                   case((Trade.cost_bps.is_not(None), 1), else_=0).label("cost_bps_n"),
                   Trade.price_impact_bps.label("impact_bps_sum"),
                   case((Trade.price_impact_bps.is_not(None), 1), else_=0).label("impact_bps_n"),
                   case((quoted, 1), else_=0).label("quote_fills"),
                   case((quoted, slip)).label("slip_centi_bps_sum"),
                   case((quoted & slip.is_not(None), 1), else_=0).label("slip_centi_bps_n"),
                   case((quoted, slip)).label("slip_centi_bps_max"))
            .select_from(Trade).outerjoin(Quote, Quote.id == Trade.quote_id)
            .where(Trade.status.in_(FINISHED), *where))


def per_leg(dialect: str, *where: ColumnElement[bool]) -> Select[Any]:
    """One row per leg of a finished trade matching `where`: its trade's created_at (t_s), hour, keys and share."""
    t_s = epoch_s(Trade.created_at, dialect)
    return (select(t_s.label("t_s"), ((t_s // HOUR_S) * HOUR_S).label("hour_s"), TradeLeg.venue, Trade.status,
                   literal(1, BigInteger).label("legs"), leg_usd().label("volume_usd_atoms"))
            .select_from(Trade).join(TradeLeg, TradeLeg.trade_id == Trade.id)
            .where(Trade.status.in_(FINISHED), *where))


def _type(col: Any) -> Any:
    """SUM for a numeric expression (so no result processor rounds it to the expression's scale), else its type."""
    return SUM if isinstance(col.type, Numeric) else col.type


def grouped(rows: Select[Any], keys: Sequence[str], sums: Sequence[str], with_max: bool) -> Select[Any]:
    """The rollup rows of per-trade/per-leg rows: grouped by keys, summed (and the slippage max), in key order.

    A key `day_s` (the daily level) is the start of the row's UTC day, from its t_s.
    """
    src = rows.subquery()
    key_cols = [((src.c.t_s // DAY_S) * DAY_S).label("day_s") if k == "day_s" else src.c[k] for k in keys]
    cols = key_cols + [func.sum(src.c[s], type_=_type(src.c[s])).label(s) for s in sums]
    if with_max:
        cols.append(func.max(src.c.slip_centi_bps_max, type_=SUM).label("slip_centi_bps_max"))
    return select(*cols).group_by(*key_cols).order_by(*key_cols)
