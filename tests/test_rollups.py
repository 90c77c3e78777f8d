"""Hourly rollups: kept in the trade's own transaction, equal to the per-trade aggregation, rebuilt identically."""
from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select

import trade_logger
from cli.demo import simulate
from ledger import rollups
from ledger.rollups import LegRollup, TradeRollup
from models import Trade, db, utcnow
from read import analytics, rollup_reader, series, window
from services import quoting, trading


def _plan(amount: str = "12") -> trade_logger.FillPlan:
    """A real plan (gather, decide) for a small SOL → USDC order."""
    market = current_app.extensions["market"]
    g = quoting.gather(market, quoting.parse_order({"input": "SOL", "output": "USDC", "amount": amount}))
    return trading.plan_fill(market, g, quoting.decide(market, g), idempotency_key=None, body_hash=None, user_id=None,
                          started=time.perf_counter())


def _mixed_trades(app: Flask) -> None:
    """Filled trades (some from firm quotes), a rejection, a failure, a pending trade and an ORM-inserted fill."""
    with app.app_context():
        simulate(24, days=2, seed=11)
        plan = _plan()
        trade_logger.record_rejection(plan, plan.order, "no liquidity left", utcnow(), code="NO_LIQUIDITY")
        failed = trade_logger.reserve(_plan("13"), utcnow())
        trade_logger.fail(failed.id, "EXECUTION_FAILED", "the venue failed", utcnow())
        trade_logger.reserve(_plan("14"), utcnow())  # stays pending: counted live, never rolled up
        filled = trade_logger.record_fill(_plan("15"), utcnow())
        copy = Trade(**{c.key: getattr(filled, c.key) for c in Trade.__table__.columns
                        if c.key not in ("id", "quote_id", "idempotency_key")})
        copy.created_at = datetime.now(UTC).replace(minute=30) - timedelta(hours=3)
        db.session.add(copy)  # inserted finished through the ORM: the flush hook rolls it up
        db.session.commit()


def _python_totals() -> Counter[tuple[Any, ...]]:
    """Per (hour, status, venue): trades, notional and savings summed in Python from the ORM rows."""
    totals: Counter[tuple[Any, ...]] = Counter()
    for t in db.session.scalars(select(Trade).where(Trade.status.in_(rollups.FINISHED))):
        hour_s = int(t.created_at.timestamp()) // 3600 * 3600
        totals[(hour_s, t.status, t.venue, "trades")] += 1
        totals[(hour_s, t.status, t.venue, "volume")] += t.notional_usd_atoms
        totals[(hour_s, t.status, t.venue, "savings")] += t.savings_usd_atoms
    return totals


def _rollup_totals() -> Counter[tuple[Any, ...]]:
    """The same totals read from trade_rollups_hourly."""
    totals: Counter[tuple[Any, ...]] = Counter()
    for r in db.session.scalars(select(TradeRollup)):
        totals[(r.hour_s, r.status, r.venue, "trades")] += r.trades
        totals[(r.hour_s, r.status, r.venue, "volume")] += r.volume_usd_atoms
        totals[(r.hour_s, r.status, r.venue, "savings")] += r.savings_usd_atoms
    return totals


def _snapshot() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every row of both rollup tables, in key order; fractional sums to 12 significant digits (SQLite: REAL)."""
    def norm(v: Any) -> Any:
        return float(f"{float(v):.12g}") if isinstance(v, Decimal | float) else v

    trade_rows = [tuple(norm(getattr(r, c.key)) for c in TradeRollup.__table__.columns)
                  for r in db.session.scalars(select(TradeRollup).order_by(*TradeRollup.__table__.primary_key))]
    leg_rows = [tuple(norm(getattr(r, c.key)) for c in LegRollup.__table__.columns)
                for r in db.session.scalars(select(LegRollup).order_by(*LegRollup.__table__.primary_key))]
    return trade_rows, leg_rows


def _both_ways(app: Flask, read: Any) -> tuple[Any, Any]:
    """read() from the rollups, then from the per-trade queries (ANALYTICS_ROLLUPS off)."""
    app.config["ANALYTICS_ROLLUPS"] = True
    fast = read()
    app.config["ANALYTICS_ROLLUPS"] = False
    try:
        return fast, read()
    finally:
        app.config["ANALYTICS_ROLLUPS"] = True


def _agree(fast: Any, naive: Any, exact: bool) -> bool:
    """Equal; on SQLite (REAL arithmetic) decimal strings may differ by one unit of their last displayed place."""
    if isinstance(fast, dict) and isinstance(naive, dict):
        return fast.keys() == naive.keys() and all(_agree(fast[k], naive[k], exact) for k in fast)
    if isinstance(fast, list) and isinstance(naive, list):
        return len(fast) == len(naive) and all(_agree(a, b, exact) for a, b in zip(fast, naive, strict=True))
    if exact or fast == naive or not (isinstance(fast, str) and isinstance(naive, str)) or "." not in naive:
        return fast == naive
    unit = Decimal(1).scaleb(-len(naive.split(".")[1]))
    return abs(Decimal(fast) - Decimal(naive)) <= unit


def test_rollups_hold_the_per_trade_totals_after_fills_rejections_and_failures(any_app: Flask) -> None:
    _mixed_trades(any_app)
    with any_app.app_context():
        statuses = set(db.session.scalars(select(Trade.status)))
        assert {"filled", "rejected", "failed", "pending"} <= statuses
        assert _rollup_totals() == _python_totals()
        assert "pending" not in set(db.session.scalars(select(TradeRollup.status)))


def test_analytics_read_from_rollups_equal_the_per_trade_queries(any_app: Flask) -> None:
    _mixed_trades(any_app)
    now, exact = utcnow(), any_app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    with any_app.app_context():
        for key in ("24h", "7d", "all"):
            w = window.make_window(key, None, None, now, window.first_trade_at())
            fast, naive = _both_ways(any_app, lambda w=w: series.all_series(w))
            assert _agree(fast, naive, exact), (key, fast, naive)
        assert sum(p["trades"] for p in fast["savings"]) > 20
        mid_hour = now - timedelta(hours=5, minutes=17, seconds=3)
        for since, until in ((None, None), (mid_hour, None), (mid_hour, now - timedelta(minutes=41)),
                             (mid_hour, mid_hour + timedelta(minutes=20))):
            fast, naive = _both_ways(any_app, lambda s=since, u=until: analytics.summary(s, u))
            assert _agree(fast, naive, exact), (since, until, fast, naive)
        full, _ = _both_ways(any_app, analytics.summary)
        assert full["trades_by_status"]["pending"] == 1 and full["trades_by_status"]["failed"] == 1


def test_rebuild_recomputes_exactly_what_was_kept_incrementally(any_app: Flask) -> None:
    _mixed_trades(any_app)
    with any_app.app_context():
        kept = _snapshot()
        assert kept[0] and kept[1]
        db.session.execute(TradeRollup.__table__.delete())
        db.session.commit()
        assert rollups.rebuild() == (len(kept[0]), len(kept[1]))
        assert _snapshot() == kept


def test_rollups_rebuild_command_reports_the_rows_written(app: Flask) -> None:
    _mixed_trades(app)
    result = app.test_cli_runner().invoke(args=["rollups", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "rollups rebuilt:" in result.output and "trade rows" in result.output


def test_a_range_inside_one_hour_is_read_per_trade_and_whole_hours_from_rollups() -> None:
    at = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    assert rollup_reader.split(at, at + timedelta(hours=3)) == ((int(at.timestamp()),
                                                                     int(at.timestamp()) + 3 * 3600), [])
    inside = (at + timedelta(minutes=5), at + timedelta(minutes=50))
    assert rollup_reader.split(*inside) == (None, [inside])
    span, parts = rollup_reader.split(at + timedelta(minutes=5), None)
    assert span == (int(at.timestamp()) + 3600, None)
    assert parts == [(at + timedelta(minutes=5), at + timedelta(hours=1))]


def test_whole_days_are_read_from_the_daily_rollups_and_the_hours_around_them_from_the_hourly() -> None:
    day = int(datetime(2026, 11, 2, tzinfo=UTC).timestamp())
    assert rollup_reader.split_days((day + 3 * 3600, day + 2 * 86_400 + 3600)) == (
        (day + 86_400, day + 2 * 86_400), [(day + 3 * 3600, day + 86_400), (day + 2 * 86_400, day + 2 * 86_400 + 3600)])
    assert rollup_reader.split_days((None, day + 5 * 3600)) == ((None, day), [(day, day + 5 * 3600)])
    assert rollup_reader.split_days((day + 3600, day + 5 * 3600)) == (None, [(day + 3600, day + 5 * 3600)])


def test_daily_rollups_hold_the_sums_of_the_hourly_ones_kept_and_rebuilt(any_app: Flask) -> None:
    _mixed_trades(any_app)
    with any_app.app_context():
        def daily_of_hourly() -> list[tuple[Any, ...]]:
            hourly = [dict(r._mapping) for r in db.session.execute(select(TradeRollup.__table__))]
            days = rollups.by_day(hourly, rollups.TRADE_SUMS, True)
            return sorted((d["day_s"], d["status"], d["venue"], d["pair"], d["size_bucket"], d["trades"],
                           d["volume_usd_atoms"]) for d in days)

        def daily() -> list[tuple[Any, ...]]:
            d = rollups.TRADE_DAILY.c
            return sorted(tuple(r) for r in db.session.execute(select(
                d.day_s, d.status, d.venue, d.pair, d.size_bucket, d.trades, d.volume_usd_atoms)))

        kept = daily()
        assert kept and kept == daily_of_hourly()
        rollups.rebuild()
        assert daily() == kept
        legs = db.session.execute(select(rollups.LEG_DAILY.c.legs)).scalars().all()
        assert sum(legs) == sum(db.session.execute(select(LegRollup.legs)).scalars().all())


def test_months_long_ranges_read_daily_rollups_and_still_equal_the_per_trade_queries(any_app: Flask) -> None:
    _mixed_trades(any_app)
    now, exact = utcnow(), any_app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    with any_app.app_context():
        for key in ("30d", "90d", "all"):
            w = window.make_window(key, None, None, now, now - timedelta(days=200))
            assert rollup_reader.days_fit(w)
            fast, naive = _both_ways(any_app, lambda w=w: series.all_series(w))
            assert _agree(fast, naive, exact), (key, fast, naive)
        fast, naive = _both_ways(any_app, lambda: analytics.summary(now - timedelta(days=1, hours=5, minutes=3)))
        assert _agree(fast, naive, exact)
