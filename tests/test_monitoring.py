"""Metrics snapshots: per-window deltas of the Jupiter client's counters, throttled per process, and their history."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from cli import worker
from models import SystemMetrics, db
from read import window
from services import monitoring
from tests.conftest import build_app


def stats(calls: int, errors: dict[str, int], retries: int, latencies: list[int], breaker: str = "closed") -> dict:
    """The shape of JupiterClient.stats()."""
    return {"calls": calls, "ok": calls - sum(errors.values()), "errors": errors, "retries": retries,
            "latency_ms_recent": latencies, "breaker_state": breaker}


def test_a_snapshot_holds_what_happened_since_the_previous_one() -> None:
    first = stats(3, {"RATE_LIMITED": 1}, 2, [10, 20, 30])
    second = stats(5, {"RATE_LIMITED": 1, "UPSTREAM_UNAVAILABLE": 1}, 3, [10, 20, 30, 40, 50], "open")
    window = monitoring.window_stats(second, first)
    assert (window["calls"], window["ok"], window["retries"]) == (2, 1, 1)
    assert window["errors"] == {"UPSTREAM_UNAVAILABLE": 1}
    assert window["latency_ms_recent"] == [40, 50] and window["breaker_state"] == "open"


def test_a_replaced_client_starts_the_deltas_over() -> None:
    window = monitoring.window_stats(stats(1, {}, 0, [7]), stats(9, {}, 4, [1] * 9))
    assert (window["calls"], window["retries"], window["latency_ms_recent"]) == (1, 0, [7])


def test_the_throttle_writes_at_most_one_snapshot_per_interval(app: Flask) -> None:
    now_s = [1000.0]
    throttle = monitoring.SnapshotThrottle(60, clock=lambda: now_s[0])
    at = datetime(2026, 11, 26, tzinfo=UTC)
    with app.app_context():
        assert throttle.record(stats(1, {}, 0, [5]), at, 60) is not None
        now_s[0] += 59
        assert throttle.record(stats(2, {}, 0, [5, 6]), at, 60) is None
        now_s[0] += 1
        row = throttle.record(stats(4, {}, 0, [5, 6, 7, 9]), at, 60)
        assert row is not None and row.jupiter_calls == 3 and row.jupiter_p99_ms == 9
        assert db.session.scalar(select(func.count()).select_from(SystemMetrics)) == 2


def test_the_worker_jobs_record_a_snapshot_when_enabled_once_per_interval_and_requests_none(tmp_path: Path) -> None:
    app = build_app(f"sqlite:///{tmp_path / 'm.db'}", METRICS_SNAPSHOT_S=60)
    client = app.test_client()
    for path in ("/", "/api/v1/pools", "/trades"):
        assert client.get(path).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SystemMetrics)) == 0
    for _ in range(3):
        worker.tick(app)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SystemMetrics)) == 1
        db.engine.dispose()


def test_tests_take_no_snapshots_unless_asked(app: Flask) -> None:
    assert app.test_client().get("/").status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SystemMetrics)) == 0


def test_metrics_history_is_bucketed_in_sql_with_errors_by_kind(any_app: Flask) -> None:
    start = datetime(2026, 11, 2, tzinfo=UTC)
    rows = [(0, 10, 100, 200, 300, {"RATE_LIMITED": 2}, "closed"), (30, 20, 120, 220, 900, {}, "open"),
            (90, 5, 50, 60, 70, {"RATE_LIMITED": 1, "CIRCUIT_OPEN": 4}, "half_open")]
    with any_app.app_context():
        for minutes, calls, p50, p95, p99, kinds, breaker in rows:
            db.session.add(SystemMetrics(recorded_at=start + timedelta(minutes=minutes), jupiter_calls=calls,
                                         jupiter_errors=sum(kinds.values()), jupiter_retries=1, jupiter_p50_ms=p50,
                                         jupiter_p95_ms=p95, jupiter_p99_ms=p99, errors_by_kind=kinds,
                                         breaker_state=breaker))
        db.session.commit()
        history = monitoring.metrics_series(window.Window(start, start + timedelta(hours=2), 3_600, "t"))
    first, second = history["points"]
    assert (first["snapshots"], first["calls"], first["p50_ms"], first["p95_ms"], first["p99_ms"]) == (
        2, 30, 110, 210, 900)
    assert (first["errors"], first["retries"], first["breaker_not_closed"]) == (2, 2, 1)
    assert (second["calls"], second["breaker_not_closed"]) == (5, 1)
    assert history["errors_by_kind"] == {"CIRCUIT_OPEN": 4, "RATE_LIMITED": 3}
