"""The analytics read side on the rollups: the same raw aggregates as the per-trade SQL, in time ~ days + hours.

A range [since, until) is read as its whole UTC days from the daily rollups (when the window's buckets are whole
days, or it has none), its other whole hours from the hourly rollups, and, for the partial hours at its ends, the
per-trade rows of rollups.per_trade/per_leg (the very expressions the rollups were built from), so the answer
equals the per-trade query's. Pending trades are not rolled up: they are counted live.
`ANALYTICS_ROLLUPS=0` switches the analytics back to the per-trade queries (the bench's naive baseline).
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import Numeric, case, func, select, text, union_all
from sqlalchemy.sql import Select, Subquery
from sqlalchemy.sql.elements import ColumnElement

from ledger.rollup_days import DAY_S
from ledger.rollups import (
    FINISHED,
    HOUR_S,
    LEG_DAILY,
    SUM,
    TRADE_DAILY,
    TRADE_SUMS,
    LegRollup,
    TradeRollup,
    per_leg,
    per_trade,
)
from models import EXECUTED, Trade, db
from read.window import Window

TRADE_COLS = ("status", "venue", "pair", "input_symbol", "output_symbol", "size_bucket", *TRADE_SUMS,
              "slip_centi_bps_max")
LEG_COLS = ("venue", "status", "legs", "volume_usd_atoms")
Span = tuple[int | None, int | None]  # whole hours [from, to) in epoch seconds; None = open
Range = tuple[datetime | None, datetime | None]  # [since, until) in UTC; None = open


def enabled() -> bool:
    """True unless the app runs with ANALYTICS_ROLLUPS off (then analytics use the per-trade queries)."""
    return bool(current_app.config.get("ANALYTICS_ROLLUPS", True))


def _floor_hour(at: datetime) -> datetime:
    """`at` rounded down to its UTC hour."""
    epoch = int(at.timestamp())
    return datetime.fromtimestamp(epoch - epoch % HOUR_S, UTC)


def split(since: datetime | None, until: datetime | None) -> tuple[Span | None, list[Range]]:
    """[since, until) as whole hours read from the rollups (or None) and the partial-hour ranges read per trade."""
    lo = None if since is None else _floor_hour(since)
    if lo is not None and lo != since:
        lo += timedelta(hours=1)
    hi = None if until is None else _floor_hour(until)
    if lo is not None and hi is not None and lo >= hi:
        return None, [(since, until)]
    parts = [(since, lo)] if since is not None and since != lo else []
    parts += [(hi, until)] if until is not None and until != hi else []
    return (None if lo is None else int(lo.timestamp()), None if hi is None else int(hi.timestamp())), parts


def split_days(span: Span) -> tuple[Span | None, list[Span]]:
    """Whole hours [lo, hi) as whole UTC days (or None) and the whole-hour spans left at either end."""
    lo, hi = span
    d_lo = None if lo is None else -(-lo // DAY_S) * DAY_S
    d_hi = None if hi is None else hi // DAY_S * DAY_S
    if d_lo is not None and d_hi is not None and d_lo >= d_hi:
        return None, [span]
    ends = [(lo, d_lo)] if lo is not None and lo != d_lo else []
    ends += [(d_hi, hi)] if hi is not None and hi != d_hi else []
    return (d_lo, d_hi), ends


def days_fit(w: Window) -> bool:
    """True when the window's buckets are whole UTC days (a daily rollup row falls inside one bucket)."""
    return w.bucket_s % DAY_S == 0 and int(w.since.timestamp()) % DAY_S == 0


def _hours(col: Any, span: Span) -> list[ColumnElement[bool]]:
    """hour_s inside the whole-hour span."""
    lo, hi = span
    return [*([col >= lo] if lo is not None else []), *([col < hi] if hi is not None else [])]


def _created(since: datetime | None, until: datetime | None) -> list[ColumnElement[bool]]:
    """Trade.created_at inside [since, until)."""
    return [*([Trade.created_at >= since] if since else []), *([Trade.created_at < until] if until else [])]


def _source(tables: tuple[Any, Any | None], cols: tuple[str, ...], per_row: Any, since: datetime | None,
            until: datetime | None, statuses: tuple[str, ...]) -> Subquery:
    """Daily rollup rows of the whole days (when a daily table is given), hourly rows of the other whole hours and
    per-row rows of the partial ones: t_s plus `cols`."""
    span, parts = split(since, until)
    dialect = db.session.get_bind().dialect.name
    selects: list[Select[Any]] = []
    hourly, daily = tables
    days, hour_spans = split_days(span) if span is not None and daily is not None else (None, [span] if span else [])
    if days is not None:
        d = daily.c
        selects.append(select(d.day_s.label("t_s"), *[d[c] for c in cols])
                       .where(d.status.in_(statuses), *_hours(d.day_s, days)))
    for hours in hour_spans:
        t = hourly.c
        selects.append(select(t.hour_s.label("t_s"), *[t[c] for c in cols])
                       .where(t.status.in_(statuses), *_hours(t.hour_s, hours)))
    for lo, hi in parts:
        p = per_row(dialect, Trade.status.in_(statuses), *_created(lo, hi)).subquery()
        selects.append(select(p.c.t_s, *[p.c[c] for c in cols]))
    return (selects[0] if len(selects) == 1 else union_all(*selects)).subquery("src")


def trade_source(since: datetime | None, until: datetime | None, statuses: tuple[str, ...] = EXECUTED,
                 days: bool = True) -> Subquery:
    """Trade rollups of the whole days (if `days`) and hours, per-trade rows of the partial hours: t_s, TRADE_COLS."""
    return _source((TradeRollup.__table__, TRADE_DAILY if days else None), TRADE_COLS, per_trade, since, until,
                   statuses)


def leg_source(since: datetime | None, until: datetime | None, statuses: tuple[str, ...] = EXECUTED,
               days: bool = True) -> Subquery:
    """Leg rollups of the whole days (if `days`) and hours, per-leg rows of the partial hours: t_s, LEG_COLS."""
    return _source((LegRollup.__table__, LEG_DAILY if days else None), LEG_COLS, per_leg, since, until, statuses)


def _bucket(src: Subquery, w: Window) -> ColumnElement[int]:
    """Window bucket index of a source row (its hour, or its trade's time in a partial hour)."""
    return (src.c.t_s - int(w.since.timestamp())) // w.bucket_s


def _avg(total: Any, n: Any) -> Decimal | None:
    """total / n as a Decimal (an SQL average's value), None when n is 0."""
    return None if not n else Decimal(str(total)) / int(n)


def summary_parts(since: datetime | None, until: datetime | None) -> dict[str, Any]:
    """What analytics.summary aggregates: filled count, volume, savings, OTC count and volume, mix, statuses."""
    src = trade_source(since, until, FINISHED)
    rows = db.session.execute(
        select(src.c.status, src.c.venue, func.sum(src.c.trades), func.coalesce(func.sum(src.c.volume_usd_atoms), 0),
               func.coalesce(func.sum(src.c.savings_usd_atoms), 0),
               func.coalesce(func.sum(src.c.otc_volume_usd_atoms, type_=SUM), 0))
        .group_by(src.c.status, src.c.venue).order_by(src.c.status, src.c.venue)).all()
    statuses: dict[str, int] = {}
    for status, _, n, *_ in rows:
        statuses[status] = statuses.get(status, 0) + int(n)
    unfinished = db.session.execute(select(Trade.status, func.count()).where(  # not rolled up until they finish
        Trade.status.in_(("pending", "unknown")), *_created(since, until)).group_by(Trade.status)).all()
    for status, n_open in unfinished:
        statuses[status] = int(n_open)
    filled = [r for r in rows if r[0] in EXECUTED]
    return {"count": sum(int(r[2]) for r in filled), "volume": sum(int(r[3]) for r in filled),
            "saved": sum(int(r[4]) for r in filled),
            "otc_count": sum(int(r[2]) for r in filled if r[1] != "jupiter"),
            "otc_volume": int(sum((Decimal(str(r[5])) for r in filled), Decimal(0))),
            "mix": [(r[1], int(r[2]), int(r[3])) for r in filled], "statuses": statuses}


def savings_rows(w: Window) -> dict[int, tuple[int, int, int]]:
    """Per bucket: filled trades, USD volume and savings (atoms)."""
    src = trade_source(w.since, w.until, days=days_fit(w))
    b = _bucket(src, w)
    return {int(i): (int(n), int(vol), int(saved)) for i, n, vol, saved in db.session.execute(
        select(b, func.sum(src.c.trades), func.sum(src.c.volume_usd_atoms), func.sum(src.c.savings_usd_atoms))
        .group_by(b)).all()}


def size_rows(w: Window) -> dict[int, tuple[int, int, int, int, Decimal | None]]:
    """Per size bucket: filled trades, volume, savings, trades routed off Jupiter, average cost (bps)."""
    src = trade_source(w.since, w.until)  # not bucketed by time: whole days always serve
    rows = db.session.execute(
        select(src.c.size_bucket, func.sum(src.c.trades), func.sum(src.c.volume_usd_atoms),
               func.sum(src.c.savings_usd_atoms), func.sum(case((src.c.venue != "jupiter", src.c.trades), else_=0)),
               func.sum(src.c.cost_bps_sum, type_=SUM), func.sum(src.c.cost_bps_n))
        .group_by(src.c.size_bucket)).all()
    return {int(i): (int(n), int(vol), int(saved), int(otc), _avg(cost, cost_n))
            for i, n, vol, saved, otc, cost, cost_n in rows}


def route_mix_rows(w: Window) -> list[tuple[int, str, int, Any]]:
    """Per bucket and leg venue: filled legs and their USD notional share."""
    src = leg_source(w.since, w.until, days=days_fit(w))
    b = _bucket(src, w)
    return [(int(i), v, int(n), vol) for i, v, n, vol in db.session.execute(
        select(b, src.c.venue, func.sum(src.c.legs),  # typed as analytics.leg_usd(): SQLite rounds it the same way
               func.coalesce(func.sum(src.c.volume_usd_atoms, type_=Numeric(38, 0)), 0))
        .group_by(b, src.c.venue)).all()]


def slippage_rows(w: Window) -> tuple[dict[int, Decimal], dict[int, tuple[int, Decimal | None, Any]]]:
    """Per bucket: average Jupiter price impact (bps); quote fills, average and worst slippage (1/100 bp)."""
    src = trade_source(w.since, w.until, days=days_fit(w))
    b = _bucket(src, w)
    rows = db.session.execute(
        select(b, func.sum(src.c.impact_bps_sum, type_=SUM), func.sum(src.c.impact_bps_n),
               func.sum(src.c.quote_fills), func.sum(src.c.slip_centi_bps_sum, type_=SUM),
               func.sum(src.c.slip_centi_bps_n), func.max(src.c.slip_centi_bps_max, type_=SUM)).group_by(b)).all()
    impact = {int(i): avg for i, total, n, *_ in rows if (avg := _avg(total, n)) is not None}
    realised = {int(i): (int(q), _avg(slip, slip_n), worst) for i, _, _, q, slip, slip_n, worst in rows if q}
    return impact, realised


def pair_rows(w: Window) -> list[tuple[str, str, str, int, int, int]]:
    """Per pair and direction: filled trades, USD volume and savings."""
    src = trade_source(w.since, w.until)  # not bucketed by time
    keys = (src.c.pair, src.c.input_symbol, src.c.output_symbol)
    return [(p, i, o, int(n), int(vol), int(saved)) for p, i, o, n, vol, saved in db.session.execute(
        select(*keys, func.sum(src.c.trades), func.sum(src.c.volume_usd_atoms), func.sum(src.c.savings_usd_atoms))
        .group_by(*keys)).all()]


def distinct_trade_values(column: str) -> set[str]:
    """Distinct values of an indexed trades column (venue, pair) by a loose index scan: one index probe per value
    (a recursive CTE, on SQLite and PostgreSQL) instead of reading every trade."""
    if column not in ("venue", "pair"):
        raise ValueError("only the indexed trades.venue and trades.pair")
    sql = (f"WITH RECURSIVE seen(v) AS (SELECT min({column}) FROM trades UNION ALL "
           f"SELECT (SELECT min({column}) FROM trades WHERE {column} > seen.v) FROM seen WHERE seen.v IS NOT NULL) "
           "SELECT v FROM seen WHERE v IS NOT NULL")
    return set(db.session.scalars(text(sql)))
