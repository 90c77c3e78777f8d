"""Hourly rollups of finished trades, kept in the transaction that finishes each trade, so analytics stay fast at scale.

- trade_rollups_hourly: per UTC hour × status × venue × pair × direction × size bucket: trades, USD notional and
  savings (atoms), the sums behind the averages the analytics show (cost, Jupiter price impact, realised slippage vs
  the firm quote, in the same SQL expressions as the per-trade queries) and the OTC legs' share of the notional.
- trade_leg_rollups_hourly: per UTC hour × leg venue × status: legs and their share of the USD notional (route mix).
- trade_rollups_daily, trade_leg_rollups_daily: the same columns per UTC day (day_s), kept alongside, so a range
  of months reads days, not hours.

Only finished trades (filled, rejected, failed) are rolled up; pending ones are few and counted live. Kept by:
add_trades() in trade_logger.settle()/fail() (the pending -> finished UPDATE is Core SQL), an after_flush hook for
trades inserted finished or moved to a finished status through the ORM (rejections, fixtures), and rebuild()
(backfill after bulk loads: `flask --app main rollups rebuild`). Each upsert adds a group's sums to its row.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    Numeric,
    String,
    Table,
    bindparam,
    case,
    cast,
    delete,
    event,
    func,
    insert,
    inspect,
    literal,
    select,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement, TextClause

from ledger.rollup_days import DAY_S, by_day
from models import Quote, Trade, TradeLeg, db

FINISHED = ("filled", "partial", "rejected", "failed")
# Trade-size buckets by USD notional (whole USD): lower edges, each bucket up to the next edge.
SIZE_EDGES_USD = (0, 10_000, 100_000, 1_000_000, 5_000_000)
HOUR_S = 3_600
SUM = Numeric()  # unconstrained NUMERIC: sums of bps (4 decimals) and slippage fractions stay exact on PostgreSQL


class TradeRollup(db.Model):
    """Finished trades of one UTC hour and one (status, venue, pair, direction, size bucket): counts and sums."""

    __tablename__ = "trade_rollups_hourly"

    hour_s: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # start of the UTC hour, epoch seconds
    status: Mapped[str] = mapped_column(String(12), primary_key=True)
    venue: Mapped[str] = mapped_column(String(64), primary_key=True)
    pair: Mapped[str] = mapped_column(String(24), primary_key=True)
    input_symbol: Mapped[str] = mapped_column(String(16), primary_key=True)
    output_symbol: Mapped[str] = mapped_column(String(16), primary_key=True)
    size_bucket: Mapped[int] = mapped_column(Integer, primary_key=True)  # index of analytics_charts.SIZE_EDGES_USD
    trades: Mapped[int] = mapped_column(BigInteger)
    volume_usd_atoms: Mapped[int] = mapped_column(BigInteger)
    savings_usd_atoms: Mapped[int] = mapped_column(BigInteger)
    otc_volume_usd_atoms: Mapped[Any] = mapped_column(SUM)  # OTC legs' share of the notional (display precision)
    cost_bps_sum: Mapped[Any] = mapped_column(SUM, nullable=True)
    cost_bps_n: Mapped[int] = mapped_column(BigInteger)
    impact_bps_sum: Mapped[Any] = mapped_column(SUM, nullable=True)
    impact_bps_n: Mapped[int] = mapped_column(BigInteger)
    quote_fills: Mapped[int] = mapped_column(BigInteger)  # trades executed from a stored firm quote
    slip_centi_bps_sum: Mapped[Any] = mapped_column(SUM, nullable=True)  # realised vs quoted, 1/100 bp
    slip_centi_bps_n: Mapped[int] = mapped_column(BigInteger)
    slip_centi_bps_max: Mapped[Any] = mapped_column(SUM, nullable=True)


class LegRollup(db.Model):
    """Legs of finished trades of one UTC hour, leg venue and trade status: count and USD notional share."""

    __tablename__ = "trade_leg_rollups_hourly"

    hour_s: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # start of the UTC hour, epoch seconds
    venue: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(12), primary_key=True)
    legs: Mapped[int] = mapped_column(BigInteger)
    volume_usd_atoms: Mapped[Any] = mapped_column(SUM)  # Σ leg share of its trade's notional (display precision)


def _daily(hourly: Table, name: str) -> Table:
    """The daily level of an hourly rollup table: its columns, keyed by the start of the UTC day (day_s)."""
    return Table(name, db.metadata, *[Column("day_s", BigInteger, primary_key=True) if c.name == "hour_s"
                                      else c._copy() for c in hourly.columns])


TRADE_DAILY = _daily(TradeRollup.__table__, "trade_rollups_daily")
LEG_DAILY = _daily(LegRollup.__table__, "trade_leg_rollups_daily")
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


def _grouped(rows: Select[Any], keys: Sequence[str], sums: Sequence[str], with_max: bool) -> Select[Any]:
    """The rollup rows of per-trade/per-leg rows: grouped by keys, summed (and the slippage max), in key order.

    A key `day_s` (the daily level) is the start of the row's UTC day, from its t_s.
    """
    src = rows.subquery()
    key_cols = [((src.c.t_s // DAY_S) * DAY_S).label("day_s") if k == "day_s" else src.c[k] for k in keys]
    cols = key_cols + [func.sum(src.c[s], type_=_type(src.c[s])).label(s) for s in sums]
    if with_max:
        cols.append(func.max(src.c.slip_centi_bps_max, type_=SUM).label("slip_centi_bps_max"))
    return select(*cols).group_by(*key_cols).order_by(*key_cols)


@functools.cache
def _upsert_sql(table: str, keys: tuple[str, ...], sums: tuple[str, ...], with_max: bool) -> TextClause:
    """INSERT one rollup row; on an existing key add its sums (and keep the larger slippage max).

    Plain SQL that SQLite (3.24+) and PostgreSQL both speak: SQLAlchemy's dialect upserts are compiled anew on
    every execution, which would cost more than the rest of the trade's transaction.
    """
    cols = [*keys, *sums] + (["slip_centi_bps_max"] if with_max else [])
    sets = [f"{s} = CASE WHEN excluded.{s} IS NULL THEN {table}.{s} WHEN {table}.{s} IS NULL THEN excluded.{s} "
            f"ELSE {table}.{s} + excluded.{s} END" for s in sums]  # SUM's NULL rule: NULL only if all are
    if with_max:
        old, new = f"{table}.slip_centi_bps_max", "excluded.slip_centi_bps_max"
        sets.append(f"slip_centi_bps_max = CASE WHEN {old} IS NULL THEN {new} WHEN {new} IS NULL THEN {old} "
                    f"WHEN {new} > {old} THEN {new} ELSE {old} END")
    return text(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)}) "
                f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {', '.join(sets)}")


def _driver_value(value: Any, dialect: str) -> Any:
    """A summed value as the driver takes it (sqlite3 has no Decimal: integral ones as int, others as exact text)."""
    if dialect == "sqlite" and isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)  # NUMERIC affinity: exact text
    return value


@functools.cache
def _incremental(dialect: str) -> tuple[tuple[type[Any], Select[Any], tuple[str, ...], tuple[str, ...], bool], ...]:
    """Per rollup: the grouped sums of the trades whose ids are bound as `trade_ids` (built once, cached SQL)."""
    ids = Trade.id.in_(bindparam("trade_ids", expanding=True))
    return ((TradeRollup, _grouped(per_trade(dialect, ids), TRADE_KEYS, TRADE_SUMS, True), TRADE_KEYS, TRADE_SUMS,
             True), (LegRollup, _grouped(per_leg(dialect, ids), LEG_KEYS, LEG_SUMS, False), LEG_KEYS, LEG_SUMS, False))


def _add(conn: Connection, trade_ids: list[int]) -> None:
    """Add finished trades (and their legs) to the hourly and daily rollups: select their sums, upsert them."""
    dialect = conn.dialect.name
    for model, grouped, keys, sums, with_max in _incremental(dialect):
        rows = [dict(row) for row in conn.execute(grouped, {"trade_ids": trade_ids}).mappings()]
        if rows:
            table = model.__tablename__
            conn.execute(_upsert_sql(table, keys, sums, with_max),
                         [{k: _driver_value(v, dialect) for k, v in row.items()} for row in rows])
            conn.execute(_upsert_sql(table.replace("hourly", "daily"), DAILY_KEYS[table], sums, with_max),
                         [{k: _driver_value(v, dialect) for k, v in row.items()}
                          for row in by_day(rows, sums, with_max)])


def add_trades(trade_ids: Iterable[int]) -> None:
    """Roll up trades that just finished, in the caller's transaction (flushes pending ORM changes first)."""
    ids = sorted(set(trade_ids))
    if ids:
        db.session.flush()
        _add(db.session.connection(), ids)


def backfill(conn: Connection) -> None:
    """Replace the rollups (hourly and daily) by the aggregation of every finished trade, on `conn` (caller commits)."""
    if conn.dialect.name == "postgresql":  # one big aggregation: hash it in memory, skip seconds of JIT compiling
        conn.execute(text("SET LOCAL work_mem = '256MB'"))
        conn.execute(text("SET LOCAL jit = off"))
    everything, dialect = Trade.id.is_not(None), conn.dialect.name
    daily = inspect(conn).has_table(TRADE_DAILY.name)  # not yet during the migration that made the hourly level
    for table, keys in ((TradeRollup.__table__, TRADE_KEYS), (TRADE_DAILY, DAILY_KEYS["trade_rollups_hourly"]))[
            :1 + daily]:
        conn.execute(delete(table))
        conn.execute(insert(table).from_select([*keys, *TRADE_SUMS, "slip_centi_bps_max"], _grouped(
            per_trade(dialect, everything), keys, TRADE_SUMS, True)))
    for table, keys in ((LegRollup.__table__, LEG_KEYS), (LEG_DAILY, DAILY_KEYS["trade_leg_rollups_hourly"]))[
            :1 + daily]:
        conn.execute(delete(table))
        conn.execute(insert(table).from_select([*keys, *LEG_SUMS], _grouped(
            per_leg(dialect, everything), keys, LEG_SUMS, False)))


def rebuild() -> tuple[int, int]:
    """Recompute every rollup from every finished trade in one transaction; (hourly trade rows, leg rows) written."""
    backfill(db.session.connection())
    db.session.commit()
    return (db.session.scalar(select(func.count()).select_from(TradeRollup)) or 0,
            db.session.scalar(select(func.count()).select_from(LegRollup)) or 0)


def _finished_by_orm(session: Session) -> list[int]:
    """Trades this flush inserted finished, or moved from another status to a finished one through the ORM."""
    ids = [obj.id for obj in session.new if isinstance(obj, Trade) and obj.status in FINISHED]
    for obj in session.dirty:
        if isinstance(obj, Trade) and obj.status in FINISHED:
            history = inspect(obj).attrs.status.history
            if history.added and not any(old in FINISHED for old in history.deleted or ()):
                ids.append(obj.id)
    return ids


@event.listens_for(Session, "after_flush")
def _roll_up_orm_writes(session: Session, _flush_context: Any) -> None:
    """after_flush: roll up trades the ORM inserted finished (e.g. rejections) in the same transaction."""
    ids = _finished_by_orm(session)
    if ids:
        _add(session.connection(), sorted(ids))


def register_cli(app: Flask) -> None:
    """Attach `flask --app main rollups rebuild`."""
    group = AppGroup("rollups", help="Hourly analytics rollups of finished trades.")

    @group.command("rebuild")
    def rebuild_command() -> None:
        """Recompute the hourly rollups from every finished trade (after a bulk load or a manual fix)."""
        trade_rows, leg_rows = rebuild()
        click.echo(f"rollups rebuilt: {trade_rows} trade rows, {leg_rows} leg rows")

    app.cli.add_command(group)
