"""Hourly rollups of finished trades, kept in the transaction that finishes each trade, so analytics stay fast at scale.

- trade_rollups_hourly: per UTC hour × status × venue × pair × direction × size bucket: trades, USD notional and
  savings (atoms), the sums behind the averages the analytics show (cost, Jupiter price impact, realised slippage vs
  the firm quote, in the same SQL expressions as the per-trade queries) and the OTC legs' share of the notional.
- trade_leg_rollups_hourly: per UTC hour × leg venue × status: legs and their share of the USD notional (route mix).
- trade_rollups_daily, trade_leg_rollups_daily: the same columns per UTC day (day_s), kept alongside, so a range
  of months reads days, not hours.

Only finished trades (filled, partial, rejected, failed) are rolled up; pending ones are few and counted live. Kept
by: add_trades() in trade_logger.settle()/fail() and partial_fills (the pending -> finished UPDATE is Core SQL), an
after_flush hook for trades inserted finished or moved to a finished status through the ORM (rejections, fixtures),
both through ledger.rollup_sql (one INSERT ... SELECT ... ON CONFLICT per table), and rebuild() (backfill after bulk
loads: `flask --app main rollups rebuild`). The expressions live in ledger.rollup_queries. Each upsert adds a
group's sums to its row.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import BigInteger, Column, Integer, String, Table, delete, event, func, insert, inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Session, mapped_column

from ledger import rollup_sql
from ledger.rollup_days import by_day
from ledger.rollup_queries import (
    DAILY_KEYS,
    FINISHED,
    HOUR_S,
    LEG_KEYS,
    LEG_SUMS,
    SIZE_EDGES_USD,
    SUM,
    TRADE_KEYS,
    TRADE_SUMS,
    epoch_s,
    grouped,
    leg_usd,
    per_leg,
    per_trade,
    size_bucket,
    slip_centi_bps,
)
from models import Trade, db

__all__ = ["DAILY_KEYS", "FINISHED", "HOUR_S", "LEG_DAILY", "LEG_KEYS", "LEG_SUMS", "SIZE_EDGES_USD", "SUM",
           "TRADE_DAILY", "TRADE_KEYS", "TRADE_SUMS", "LegRollup", "TradeRollup", "add_trades", "backfill", "by_day",
           "epoch_s", "leg_usd", "per_leg", "per_trade", "rebuild", "register_cli", "size_bucket", "slip_centi_bps"]


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

def add_trades(trade_ids: Iterable[int]) -> None:
    """Roll up trades that just finished, in the caller's transaction (flushes pending ORM changes first)."""
    ids = sorted(set(trade_ids))
    if ids:
        db.session.flush()
        rollup_sql.add(db.session.connection(), ids)


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
        conn.execute(insert(table).from_select([*keys, *TRADE_SUMS, "slip_centi_bps_max"], grouped(
            per_trade(dialect, everything), keys, TRADE_SUMS, True)))
    for table, keys in ((LegRollup.__table__, LEG_KEYS), (LEG_DAILY, DAILY_KEYS["trade_leg_rollups_hourly"]))[
            :1 + daily]:
        conn.execute(delete(table))
        conn.execute(insert(table).from_select([*keys, *LEG_SUMS], grouped(
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
        rollup_sql.add(session.connection(), sorted(ids))


def register_cli(app: Flask) -> None:
    """Attach `flask --app main rollups rebuild`."""
    group = AppGroup("rollups", help="Hourly analytics rollups of finished trades.")

    @group.command("rebuild")
    def rebuild_command() -> None:
        """Recompute the hourly rollups from every finished trade (after a bulk load or a manual fix)."""
        trade_rows, leg_rows = rebuild()
        click.echo(f"rollups rebuilt: {trade_rows} trade rows, {leg_rows} leg rows")

    app.cli.add_command(group)
