"""Metrics snapshots: per-window deltas of the Jupiter client's counters, throttled per process, and their history."""
from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from cli import worker
from ledger import metrics
from models import SystemMetrics, db
from read import window
from services import monitoring
from tests.conftest import build_app
from venues import jupiter_guards, jupiter_wire
from web import context


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
    # p50 weighted by calls: (100*10 + 120*20) / 30 = 113.3; p95 and p99 the worst snapshot's
    assert (first["snapshots"], first["calls"], first["p50_ms"], first["p95_ms"], first["p99_ms"]) == (
        2, 30, 113, 220, 900)
    assert (first["errors"], first["retries"], first["breaker_not_closed"]) == (2, 2, 1)
    assert (second["calls"], second["breaker_not_closed"]) == (5, 1)
    assert history["errors_by_kind"] == {"CIRCUIT_OPEN": 4, "RATE_LIMITED": 3}
    assert history["order_errors_by_kind"] == {}


def test_two_workers_snapshots_in_one_bucket_add_up_to_one_point(any_app: Flask) -> None:
    at = datetime(2026, 11, 2, 10, 0, 12, tzinfo=UTC)
    with any_app.app_context():  # the case: 3 calls and 29 calls, six seconds apart, from two workers
        metrics.record_metrics_snapshot(
            monitoring.window_stats(stats(3, {"RATE_LIMITED": 1}, 1, [100, 100, 400]), None), at,
            worker_id="web-1:101")
        metrics.record_metrics_snapshot(
            monitoring.window_stats(stats(29, {"NO_ROUTE": 2}, 0, [40] * 27 + [300, 500]), None),
            at + timedelta(seconds=6), worker_id="web-2:202")
        history = monitoring.metrics_series(window.Window(at.replace(minute=0, second=0),
                                                          at.replace(minute=0, second=0) + timedelta(hours=1),
                                                          3_600, "t"))
    (point,) = history["points"]
    assert (point["snapshots"], point["workers"], point["calls"], point["retries"]) == (2, 2, 32, 1)
    assert (point["errors"], point["order_errors"]) == (1, 2)
    assert point["p50_ms"] == round((100 * 3 + 40 * 29) / 32)  # 46: call-weighted, not 70 (the plain mean)
    assert (point["p95_ms"], point["p99_ms"]) == (400, 500)  # the worst worker's
    assert history["errors_by_kind"] == {"RATE_LIMITED": 1} and history["order_errors_by_kind"] == {"NO_ROUTE": 2}


def test_a_snapshot_names_the_process_that_wrote_it(app: Flask) -> None:
    throttle = monitoring.SnapshotThrottle(60)
    with app.app_context():
        row = throttle.record(stats(1, {}, 0, [5]), datetime(2026, 11, 26, tzinfo=UTC), 60)
        assert row is not None and row.worker_id == f"{socket.gethostname()}:{os.getpid()}"


def test_order_errors_are_the_error_classes_flagged_as_the_orders_fault() -> None:
    assert {"NO_ROUTE", "TOKEN_NOT_TRADABLE", "INVALID_REQUEST"} == jupiter_wire.ORDER_ERROR_CODES
    for venue_code in ("UPSTREAM_UNAVAILABLE", "UPSTREAM_TIMEOUT", "RATE_LIMITED", "MALFORMED_RESPONSE",
                       "CIRCUIT_OPEN", "QUOTE_MISMATCH", "PRICE_OUT_OF_BAND", "UNAUTHORIZED", "INTERNAL_ERROR"):
        assert not jupiter_wire.is_order_error(venue_code), venue_code
    assert jupiter_wire.NoRouteError("x").order_error and not jupiter_wire.CircuitOpenError("x").order_error
    assert monitoring.split_errors({"NO_ROUTE": 2, "RATE_LIMITED": 1, "INVALID_REQUEST": 1}) == (1, 3)


def test_a_no_route_for_1e9_sol_is_an_order_error_not_a_venue_error(app: Flask) -> None:
    client = app.test_client()
    refused = client.post("/api/v1/quotes", json={"input": "SOL", "output": "USDC", "amount": "1000000000"})
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "NO_ROUTE"
    live = client.get("/api/v1/analytics/monitoring").get_json()
    assert (live["jupiter"]["errors_total"], live["jupiter"]["order_errors_total"]) == (0, 1)
    with app.app_context():
        row = monitoring.SnapshotThrottle(60).record(context.market().jupiter.stats(), datetime.now(UTC), 60)
        assert row is not None and (row.jupiter_errors, row.jupiter_order_errors) == (0, 1)
    history = client.get("/api/v1/analytics/monitoring").get_json()["history"]
    assert sum(p["errors"] for p in history["points"]) == 0 and sum(p["order_errors"] for p in history["points"]) == 1
    assert history["errors_by_kind"] == {} and history["order_errors_by_kind"] == {"NO_ROUTE": 1}


def test_the_monitoring_page_says_no_limit_in_sim_mode_and_whose_counters_the_cards_are(app: Flask) -> None:
    page = app.test_client().get("/monitoring").get_data(as_text=True)
    assert '<div class="olr-kpi-value num" id="kpi-headroom">no limit</div>' in page
    assert "no rate limiter in sim mode" in page and ">none<" not in page
    assert f"This process right now · worker <span class=\"font-monospace\" id=\"live-worker\">" \
           f"{socket.gethostname()}:{os.getpid()}</span>" in page
    assert "Calls (this process)" in page and "venue errors" in page and "order errors" in page


def test_the_monitoring_page_shows_the_headroom_number_when_a_limiter_is_set(app: Flask) -> None:
    with app.app_context():
        context.market().jupiter.limiter = jupiter_guards.RateLimiter(5, burst=5, clock=lambda: 0.0)
    page = app.test_client().get("/monitoring").get_data(as_text=True)
    assert '<div class="olr-kpi-value num" id="kpi-headroom">5</div>' in page and "requests available now" in page


def test_the_latest_snapshots_table_shows_each_snapshots_worker(app: Flask) -> None:
    with app.app_context():
        for worker_id in ("web-1:101", "web-2:202"):
            metrics.record_metrics_snapshot(monitoring.window_stats(stats(2, {}, 0, [9, 9]), None),
                                                 datetime.now(UTC), worker_id=worker_id)
    page = app.test_client().get("/monitoring").get_data(as_text=True)
    table = page[page.index('id="snapshots-table"'):]
    assert "web-1:101" in table and "web-2:202" in table
