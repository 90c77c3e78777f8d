"""Monitoring: throttled SystemMetrics snapshots of the Jupiter client's counters, their history, and DB health.

The client's counters are cumulative per process; each snapshot stores what happened since the previous snapshot
of the same process (calls, errors by code, retries, the latencies of the new calls), so rows written by several
gunicorn workers add up. A process writes at most one snapshot per METRICS_SNAPSHOT_S seconds (default 60;
0 disables; disabled by default under TESTING). The worker's jobs (cli/worker.py) take them, never a request.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select, text

from core.units import iso_z
from ledger import metrics
from models import Quote, SystemMetrics, Trade, db, utcnow
from read.window import Window, bucket_of
from services.market import Market

DEFAULT_SNAPSHOT_S = 60
log = logging.getLogger(__name__)
ERRORS_ROW_CAP = 5_000  # rows read to total errors by kind over a window (JSON column, summed here)


def window_stats(stats: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
    """What happened since `previous` (both the client's stats()): counters as deltas, the new calls' latencies."""
    prev = previous or {"calls": 0, "ok": 0, "retries": 0, "errors": {}}
    if stats.get("calls", 0) < prev.get("calls", 0):  # the client was replaced: start over
        prev = {"calls": 0, "ok": 0, "retries": 0, "errors": {}}
    calls = stats.get("calls", 0) - prev.get("calls", 0)
    errors = {code: n - prev["errors"].get(code, 0) for code, n in stats.get("errors", {}).items()}
    recent = list(stats.get("latency_ms_recent", []))
    latencies = recent[len(recent) - min(calls, len(recent)):] if calls else []
    return {
        "calls": calls, "ok": stats.get("ok", 0) - prev.get("ok", 0),
        "retries": stats.get("retries", 0) - prev.get("retries", 0),
        "errors": {code: n for code, n in errors.items() if n > 0},
        "latency_ms_recent": latencies,
        "breaker_state": stats.get("breaker_state") or "closed",
    }


class SnapshotThrottle:
    """Writes a metrics snapshot at most once per interval per process (thread-safe)."""

    def __init__(self, interval_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval_s, self.clock = interval_s, clock
        self._lock = threading.Lock()
        self._last_at: float | None = None
        self._last_stats: dict[str, Any] | None = None

    def due(self) -> bool:
        """True when the interval has passed since the last snapshot (or none was taken)."""
        return self.interval_s > 0 and (self._last_at is None or self.clock() - self._last_at >= self.interval_s)

    def record(self, stats: dict[str, Any], now: datetime, window_s: int, force: bool = False) -> SystemMetrics | None:
        """Store the window since the last snapshot when due (or forced); None when skipped or busy."""
        if not self._lock.acquire(blocking=False):
            return None
        try:
            if not force and not self.due():
                return None
            self._last_at = self.clock()  # a failed write also waits an interval: no retry storm while the DB is down
            row = metrics.record_metrics_snapshot(window_stats(stats, self._last_stats), now, window_s=window_s)
            self._last_stats = stats
            return row
        finally:
            self._lock.release()


def snapshot(market: Market, throttle: SnapshotThrottle, now: datetime) -> SystemMetrics | None:
    """When the throttle is due: record this process's window of Jupiter counters; never raises (logged)."""
    if not throttle.due():
        return None
    try:
        return throttle.record(market.jupiter.stats(), now, window_s=int(throttle.interval_s))
    except Exception:
        db.session.rollback()
        log.warning("metrics snapshot failed", exc_info=True)
        return None


def jupiter_status(market: Market) -> dict[str, Any]:
    """This process's Jupiter client counters right now (no SQL): what the dashboard shows."""
    stats = market.jupiter.stats()
    jupiter = {k: stats.get(k) for k in ("calls", "ok", "errors", "retries", "latency_ms_p50", "latency_ms_p95",
                                         "breaker_state", "limiter_headroom")}
    jupiter["errors_total"] = sum((stats.get("errors") or {}).values())
    return jupiter


def live_status(market: Market) -> dict[str, Any]:
    """This process's Jupiter client counters right now, plus DB health (a ping and three row counts)."""
    return {"jupiter": jupiter_status(market), "reference_price": market.prices.status(),
            "jupiter_mode": str(market.settings.jupiter_mode), "db": db_health(), "at": iso_z(utcnow())}


def db_health() -> dict[str, Any]:
    """Reachability and round-trip time of the database, its backend, and row counts of the busy tables."""
    started = time.perf_counter()
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:
        db.session.rollback()
        return {"state": "down", "error": type(exc).__name__, "backend": db.engine.dialect.name}
    ping_ms = round((time.perf_counter() - started) * 1000, 2)
    counts = db.session.execute(select(
        select(func.count()).select_from(Trade).scalar_subquery(),
        select(func.count()).select_from(Quote).scalar_subquery(),
        select(func.count()).select_from(SystemMetrics).scalar_subquery())).one()
    return {"state": "ok", "backend": db.engine.dialect.name, "ping_ms": str(ping_ms), "trades": int(counts[0]),
            "quotes": int(counts[1]), "metrics_rows": int(counts[2])}


def metrics_series(w: Window) -> dict[str, Any]:
    """SystemMetrics per bucket: latency p50/p95 (avg) and p99 (max), calls, errors, retries, breaker-open
    snapshots, trades; plus errors by code summed over the window (from at most ERRORS_ROW_CAP rows)."""
    b = bucket_of(SystemMetrics.recorded_at, w)
    in_w = [SystemMetrics.recorded_at >= w.since, SystemMetrics.recorded_at < w.until]
    rows = {int(r[0]): r[1:] for r in db.session.execute(
        select(b, func.count(), func.avg(SystemMetrics.jupiter_p50_ms), func.avg(SystemMetrics.jupiter_p95_ms),
               func.max(SystemMetrics.jupiter_p99_ms), func.coalesce(func.sum(SystemMetrics.jupiter_calls), 0),
               func.coalesce(func.sum(SystemMetrics.jupiter_errors), 0),
               func.coalesce(func.sum(SystemMetrics.jupiter_retries), 0),
               func.sum(case((SystemMetrics.breaker_state != "closed", 1), else_=0)),
               func.coalesce(func.sum(SystemMetrics.trades_filled), 0),
               func.coalesce(func.sum(SystemMetrics.trades_rejected), 0))
        .where(*in_w).group_by(b)).all()}
    points = []
    for i, start in enumerate(w.starts()):
        n, p50, p95, p99, calls, errors, retries, open_n, filled, rejected = rows.get(i, (0,) + (None,) * 9)
        points.append({"t": iso_z(start), "snapshots": int(n), "p50_ms": _ms(p50), "p95_ms": _ms(p95),
                       "p99_ms": _ms(p99), "calls": int(calls or 0), "errors": int(errors or 0),
                       "retries": int(retries or 0), "breaker_not_closed": int(open_n or 0),
                       "trades_filled": int(filled or 0), "trades_rejected": int(rejected or 0)})
    by_kind: dict[str, int] = {}
    for kinds in db.session.scalars(select(SystemMetrics.errors_by_kind).where(*in_w)
                                    .order_by(SystemMetrics.id.desc()).limit(ERRORS_ROW_CAP)):
        for code, count in (kinds or {}).items():
            by_kind[code] = by_kind.get(code, 0) + int(count)
    return {"points": points, "errors_by_kind": dict(sorted(by_kind.items(), key=lambda kv: -kv[1]))}


def _ms(value: Any) -> int | None:
    """An averaged millisecond figure rounded to a whole ms (display only)."""
    return None if value is None else round(float(value))


def recent_snapshots(limit: int = 20) -> list[SystemMetrics]:
    """The newest snapshots, newest first."""
    return list(db.session.scalars(select(SystemMetrics).order_by(SystemMetrics.recorded_at.desc(),
                                                                  SystemMetrics.id.desc()).limit(limit)))
