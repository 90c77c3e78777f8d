"""The periodic round and each process's own snapshot.

tick(): the ladder refresh, a metrics snapshot of this process's Jupiter counters, recovery of stale pending
trades and the markouts of filled trades as they fall due (TCA); the job runner's periodic task runs it every
minute (cli/jobs.py) and `flask --app main jobs tick` by hand.
start(): what each gunicorn worker does once booted (gunicorn.conf.py): recover what a dead predecessor left
pending, then snapshot its *own* Jupiter counters every METRICS_SNAPSHOT_S (they live in that process only; no other
process can observe them). Everything else periodic is the job runner's.
"""
from __future__ import annotations

import logging
import threading
import time

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from models import SystemMetrics, db, utcnow
from services import execution, ladder, monitoring, tca
from services.market import Market

log = logging.getLogger(__name__)


def market_of(app: Flask) -> Market:
    """The app's market (built by create_app)."""
    return app.extensions["market"]


def throttle(app: Flask) -> monitoring.SnapshotThrottle:
    """This app's snapshot throttle, created on first use from METRICS_SNAPSHOT_S (0 under TESTING unless set)."""
    found = app.extensions.get("olr_metrics_throttle")
    if found is None:
        interval = app.config.get("METRICS_SNAPSHOT_S", 0 if app.testing else monitoring.DEFAULT_SNAPSHOT_S)
        found = app.extensions.setdefault("olr_metrics_throttle", monitoring.SnapshotThrottle(float(interval)))
    return found


def tick(app: Flask) -> SystemMetrics | None:
    """One round: a snapshot when due and, on the same cadence, recovery of stale pending trades."""
    with app.app_context():
        market = market_of(app)
        budget = max(1, int(market.settings.ladder_calls_per_min * max(throttle(app).interval_s, 1) / 60))
        try:
            ladder.refresh(market, time.time(), budget)  # keep the Jupiter ladders in use fresh (2 calls a quote)
        except Exception:
            log.warning("ladder refresh failed", exc_info=True)
        markouts_due(market)
        row = monitoring.snapshot(market, throttle(app), utcnow())
        if row is not None:
            try:
                execution.recover(utcnow(), market_of(app).settings.pending_timeout_s, market_of(app))
            except SQLAlchemyError:
                db.session.rollback()
                log.warning("recovery failed", exc_info=True)
        return row


def markouts_due(market: Market) -> int:
    """The TCA step: compute and store every markout due now (fill + 1/10/60/300 s); trades updated."""
    try:
        return tca.markouts(market, utcnow())
    except Exception:
        db.session.rollback()
        log.warning("markouts failed", exc_info=True)
        return 0


def recover_on_startup(app: Flask) -> None:
    """Recover trades pending longer than PENDING_TIMEOUT_S, unless RECOVER_ON_START is off; skip an unmigrated DB."""
    if not app.config.get("RECOVER_ON_START", True):
        return
    with app.app_context():
        try:
            done = execution.recover(utcnow(), market_of(app).settings.pending_timeout_s, market_of(app))
        except SQLAlchemyError as exc:
            db.session.rollback()
            log.info("start-up recovery skipped (database not ready: %s)", type(exc).__name__)
            return
        for trade in done:
            log.warning("recovered pending trade #%s: now %s", trade.id, trade.status)


def snapshot(app: Flask) -> SystemMetrics | None:
    """A metrics snapshot of this process's Jupiter counters, when due."""
    with app.app_context():
        return monitoring.snapshot(market_of(app), throttle(app), utcnow())


def start(app: Flask) -> threading.Thread | None:
    """Start-up recovery, then a daemon thread snapshotting this process every METRICS_SNAPSHOT_S (None when 0)."""
    recover_on_startup(app)
    interval_s = throttle(app).interval_s
    if interval_s <= 0:
        return None
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval_s):
            snapshot(app)

    thread = threading.Thread(target=loop, name="olr-worker-snapshot", daemon=True)
    thread.start()
    return thread


def register(app: Flask) -> AppGroup:
    """Attach `flask --app main jobs tick` (the group also gets `jobs consumer`, cli/jobs.py)."""
    group = AppGroup("jobs", help="The job runner (consumer) and the periodic round (ladder, metrics, recovery).")

    @group.command("tick")
    def tick_command() -> None:
        """Record a metrics snapshot of this process and recover stale pending trades, now."""
        throttle(app)._last_at = None  # a manual tick is always due
        row = tick(app)
        click.echo("snapshot recorded" if row is not None else "no snapshot (METRICS_SNAPSHOT_S=0?)")

    app.cli.add_command(group)
    return group
