"""SystemMetrics snapshots: a process's Jupiter counters over a window and the trades of that window, one row each."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from models import EXECUTED, SystemMetrics, Trade, db


def record_metrics_snapshot(stats: dict[str, Any], now: datetime, window_s: int = 60,
                            worker_id: str | None = None) -> SystemMetrics:
    """Store a SystemMetrics row from one process's window of Jupiter counters and the last window's trades.

    stats["venue_errors"] / stats["order_errors"] split the errors (services.monitoring.window_stats does); without
    them every error counts as a venue error.
    """
    since = now - timedelta(seconds=window_s)
    counts = dict(db.session.execute(
        select(Trade.status, func.count()).where(Trade.created_at >= since).group_by(Trade.status)
    ).all())
    volume = db.session.scalar(
        select(func.coalesce(func.sum(Trade.notional_usd_atoms), 0)).where(
            Trade.created_at >= since, Trade.status.in_(EXECUTED))
    )
    filled = sum(counts.get(status, 0) for status in EXECUTED)
    rejected = counts.get("rejected", 0) + counts.get("failed", 0)
    total = filled + rejected
    latencies = sorted(stats.get("latency_ms_recent", []))
    row = SystemMetrics(
        recorded_at=now, worker_id=worker_id, jupiter_calls=stats.get("calls", 0),
        jupiter_errors=stats.get("venue_errors", sum(stats.get("errors", {}).values())),
        jupiter_order_errors=stats.get("order_errors", 0),
        jupiter_retries=stats.get("retries", 0), jupiter_p50_ms=_pct(latencies, 50),
        jupiter_p95_ms=_pct(latencies, 95), jupiter_p99_ms=_pct(latencies, 99),
        errors_by_kind=dict(stats.get("errors", {})), breaker_state=stats.get("breaker_state", "closed"),
        trades_filled=filled, trades_rejected=rejected, volume_usd_atoms=int(volume or 0),
        success_rate_pct=(Decimal(filled * 100) / total).quantize(Decimal("0.001")) if total else None,
    )
    db.session.add(row)
    db.session.commit()
    return row


def _pct(sorted_values: list[int], pct: int) -> int | None:
    """Nearest-rank percentile of an ascending list, or None when empty."""
    if not sorted_values:
        return None
    rank = max(1, -(-pct * len(sorted_values) // 100))
    return int(sorted_values[rank - 1])
