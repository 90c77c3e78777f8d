"""The rollups' incremental upkeep: finished trades added to the hourly and daily rollups, one statement per table.

Each statement is `INSERT INTO <rollup> (...) SELECT <the trades' grouped sums> ON CONFLICT (<keys>) DO UPDATE`
(SQLite 3.24+ and PostgreSQL): the sums never travel to Python and back, so a trade's rollups cost four statements
(hourly and daily, trades and legs) in the settling transaction. Built once per dialect from the expressions of
ledger.rollup_queries (SQLAlchemy caches their compiled form; `trade_ids` is bound), so they equal a rebuild.
"""
from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Insert, bindparam, column, insert, table
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select

from ledger.rollup_queries import DAILY_KEYS, LEG_KEYS, LEG_SUMS, TRADE_KEYS, TRADE_SUMS, grouped, per_leg, per_trade
from models import Trade

MAX = "slip_centi_bps_max"


def conflict_sql(name: str, keys: Sequence[str], sums: Sequence[str], with_max: bool) -> str:
    """ON CONFLICT clause: add the new sums to an existing row (SUM's NULL rule: NULL only if both are NULL), keep
    the larger slippage max."""
    sets = [f"{s} = CASE WHEN excluded.{s} IS NULL THEN {name}.{s} WHEN {name}.{s} IS NULL THEN excluded.{s} "
            f"ELSE {name}.{s} + excluded.{s} END" for s in sums]
    if with_max:
        old, new = f"{name}.{MAX}", f"excluded.{MAX}"
        sets.append(f"{MAX} = CASE WHEN {old} IS NULL THEN {new} WHEN {new} IS NULL THEN {old} "
                    f"WHEN {new} > {old} THEN {new} ELSE {old} END")
    return f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {', '.join(sets)}"


def _upsert(name: str, keys: Sequence[str], sums: Sequence[str], with_max: bool, rows: Select[Any]) -> Insert:
    """INSERT INTO `name` the grouped `rows` (a SELECT of keys, sums and the max), adding onto existing keys."""
    cols = [*keys, *sums, *([MAX] if with_max else [])]
    target = table(name, *(column(c) for c in cols))
    return insert(target).from_select(cols, rows.suffix_with(conflict_sql(name, keys, sums, with_max)))


@functools.cache
def statements(dialect: str) -> tuple[Insert, ...]:
    """The four upserts (hourly and daily trades, hourly and daily legs) of the trades bound as `trade_ids`."""
    ids = Trade.id.in_(bindparam("trade_ids", expanding=True))
    out = []
    for hourly, keys, sums, with_max, rows in (
            ("trade_rollups_hourly", TRADE_KEYS, TRADE_SUMS, True, per_trade(dialect, ids)),
            ("trade_leg_rollups_hourly", LEG_KEYS, LEG_SUMS, False, per_leg(dialect, ids))):
        for name, level_keys in ((hourly, keys), (hourly.replace("hourly", "daily"), DAILY_KEYS[hourly])):
            out.append(_upsert(name, level_keys, sums, with_max, grouped(rows, level_keys, sums, with_max)))
    return tuple(out)


def add(conn: Connection, trade_ids: list[int]) -> None:
    """Add finished trades (and their legs) to the hourly and daily rollups, in the caller's transaction."""
    for statement in statements(conn.dialect.name):
        conn.execute(statement, {"trade_ids": trade_ids})
