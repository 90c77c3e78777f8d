"""Monitoring: throttled SystemMetrics snapshots of the Jupiter client's counters, their history, and DB health.

The client's counters are cumulative per process; each snapshot stores what happened since the previous snapshot
of the same process (calls, errors by code, retries, the latencies of the new calls) and which process wrote it
(worker_id, "hostname:pid"), so rows written by several gunicorn workers on several hosts add up: metrics_series
aggregates every worker's rows per time bucket in SQL. Errors are split: order errors (the order itself was at
fault: NO_ROUTE, TOKEN_NOT_TRADABLE, INVALID_REQUEST; venues.jupiter_wire.ORDER_ERROR_CODES) are counted apart
from venue errors (rate limits, 5xx, timeouts, open breaker, bad answers), and "errors" means venue errors.
A process writes at most one snapshot per METRICS_SNAPSHOT_S seconds (default 60; 0 disables; disabled by default
under TESTING). The worker's jobs (cli/worker.py) take them, never a request.
"""
from __future__ import annotations

import logging
import os
import socket
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
from services import onchain
from services.market import Market
from venues.jupiter_wire import is_order_error

DEFAULT_SNAPSHOT_S = 60
log = logging.getLogger(__name__)
ERRORS_ROW_CAP = 5_000  # rows read to total errors by kind over a window (JSON column, summed here)


def worker_id() -> str:
    """This process: "hostname:pid" (read at each call, so a forked worker names itself)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def split_errors(errors: dict[str, int]) -> tuple[int, int]:
    """(venue errors, order errors) of a {code: count} map."""
    order = sum(n for code, n in errors.items() if is_order_error(code))
    return sum(errors.values()) - order, order


def window_stats(stats: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
    """What happened since `previous` (both the client's stats()): counters as deltas, the new calls' latencies."""
    prev = previous or {"calls": 0, "ok": 0, "retries": 0, "errors": {}}
    if stats.get("calls", 0) < prev.get("calls", 0):  # the client was replaced: start over
        prev = {"calls": 0, "ok": 0, "retries": 0, "errors": {}}
    calls = stats.get("calls", 0) - prev.get("calls", 0)
    errors = {code: n - prev["errors"].get(code, 0) for code, n in stats.get("errors", {}).items()}
    recent = list(stats.get("latency_ms_recent", []))
    latencies = recent[len(recent) - min(calls, len(recent)):] if calls else []
    errors = {code: n for code, n in errors.items() if n > 0}
    venue_errors, order_errors = split_errors(errors)
    return {
        "calls": calls, "ok": stats.get("ok", 0) - prev.get("ok", 0),
        "retries": stats.get("retries", 0) - prev.get("retries", 0),
        "errors": errors, "venue_errors": venue_errors, "order_errors": order_errors,
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
            row = metrics.record_metrics_snapshot(window_stats(stats, self._last_stats), now, window_s=window_s,
                                                  worker_id=worker_id())
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
    """This process's Jupiter client counters right now (no SQL): what the dashboard shows.

    errors_total counts venue errors, order_errors_total the calls refused because of the order (NO_ROUTE...);
    limiter_headroom is None when there is no rate limiter (sim mode): no limit, not an alarm.
    """
    stats = market.jupiter.stats()
    jupiter = {k: stats.get(k) for k in ("calls", "ok", "errors", "retries", "latency_ms_p50", "latency_ms_p95",
                                         "breaker_state", "limiter_headroom")}
    jupiter["errors_total"], jupiter["order_errors_total"] = split_errors(stats.get("errors") or {})
    jupiter["worker"] = worker_id()
    return jupiter


def live_status(market: Market) -> dict[str, Any]:
    """This process's Jupiter client counters right now (worker: which one), plus DB health (a ping, row counts)."""
    return {"worker": worker_id(), "jupiter": jupiter_status(market), "reference_price": market.prices.status(),
            "jupiter_mode": str(market.settings.jupiter_mode), "db": db_health(), "at": iso_z(utcnow()),
            "wallet": onchain.wallet_status(market.chain)}


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
    """Every worker's SystemMetrics aggregated per bucket in SQL, one series for the whole fleet.

    Counts add up across workers and hosts: calls, venue errors, order errors, retries, breaker-not-closed
    snapshots, trades. Latency percentiles cannot be added, so: p50 is the call-weighted mean of the snapshots'
    p50 (a snapshot of 29 calls weighs 29 times one of 1), p95 and p99 are the worst snapshot's (an upper bound on
    the fleet's). Also the distinct workers per bucket, and errors by code over the window (from at most
    ERRORS_ROW_CAP rows), venue errors and order errors apart."""
    m = SystemMetrics
    b = bucket_of(m.recorded_at, w)
    in_w = [m.recorded_at >= w.since, m.recorded_at < w.until]
    timed = m.jupiter_p50_ms.isnot(None)
    rows = {int(r[0]): r[1:] for r in db.session.execute(
        select(b, func.count(), func.count(func.distinct(m.worker_id)),
               func.sum(case((timed, m.jupiter_p50_ms * m.jupiter_calls), else_=0)),
               func.sum(case((timed, m.jupiter_calls), else_=0)), func.avg(m.jupiter_p50_ms),
               func.max(m.jupiter_p95_ms), func.max(m.jupiter_p99_ms), func.coalesce(func.sum(m.jupiter_calls), 0),
               func.coalesce(func.sum(m.jupiter_errors), 0), func.coalesce(func.sum(m.jupiter_order_errors), 0),
               func.coalesce(func.sum(m.jupiter_retries), 0),
               func.sum(case((m.breaker_state != "closed", 1), else_=0)),
               func.coalesce(func.sum(m.trades_filled), 0), func.coalesce(func.sum(m.trades_rejected), 0))
        .where(*in_w).group_by(b)).all()}
    points = []
    for i, start in enumerate(w.starts()):
        (n, workers, p50_x_calls, p50_calls, p50_avg, p95, p99, calls, errors, order_errors, retries, open_n, filled,
         rejected) = rows.get(i, (0,) + (None,) * 13)
        p50 = int(p50_x_calls) / int(p50_calls) if p50_calls else p50_avg
        points.append({"t": iso_z(start), "snapshots": int(n), "workers": int(workers or 0), "p50_ms": _ms(p50),
                       "p95_ms": _ms(p95), "p99_ms": _ms(p99), "calls": int(calls or 0), "errors": int(errors or 0),
                       "order_errors": int(order_errors or 0), "retries": int(retries or 0),
                       "breaker_not_closed": int(open_n or 0), "trades_filled": int(filled or 0),
                       "trades_rejected": int(rejected or 0)})
    venue: dict[str, int] = {}
    order: dict[str, int] = {}
    for kinds in db.session.scalars(select(m.errors_by_kind).where(*in_w).order_by(m.id.desc()).limit(ERRORS_ROW_CAP)):
        for code, count in (kinds or {}).items():
            into = order if is_order_error(code) else venue
            into[code] = into.get(code, 0) + int(count)
    return {"points": points, "errors_by_kind": _by_count(venue), "order_errors_by_kind": _by_count(order)}


def _by_count(counts: dict[str, int]) -> dict[str, int]:
    """{code: count}, the biggest first."""
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def _ms(value: Any) -> int | None:
    """An averaged millisecond figure rounded to a whole ms (display only)."""
    return None if value is None else round(float(value))


def recent_snapshots(limit: int = 20) -> list[SystemMetrics]:
    """The newest snapshots, newest first."""
    return list(db.session.scalars(select(SystemMetrics).order_by(SystemMetrics.recorded_at.desc(),
                                                                  SystemMetrics.id.desc()).limit(limit)))
