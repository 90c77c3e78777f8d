"""Execution integrity: pending -> filled | failed, faults mid-execution, a killed worker, recovery and reconcile."""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import inspect, select

import trade_logger
from app import create_app
from cli import worker
from core.tokens import USDC
from models import OTCPool, Trade, db, utcnow
from services import execution
from tests.conftest import build_app
from tests.integrity_support import ScriptedJupiter, assert_reconciles, get_trade, pool_atoms, split_plan

pytest_plugins = ["tests.integrity_fixtures"]  # its fixtures: jupiter, japp, sapp
ROOT = Path(__file__).resolve().parent.parent
SELL_10 = {"input": "SOL", "output": "USDC", "amount": "10"}
SELL_1000 = {"input": "SOL", "output": "USDC", "amount": "1000"}
SELL_25K = {"input": "SOL", "output": "USDC", "amount": "25000"}


@pytest.mark.pg
@pytest.mark.parametrize("fault", ["outage", "price_drop"])
def test_jupiter_failing_mid_execution_fails_the_split_and_releases_its_otc_reservation(
        japp: Flask, jupiter: ScriptedJupiter, monkeypatch: pytest.MonkeyPatch, fault: str) -> None:
    plan = split_plan(japp, f"mid-{fault}")
    reserved: list[tuple[int, int]] = []
    real_reserve = trade_logger.reserve

    def reserve_then_fault(p: trade_logger.FillPlan, now):  # the fault strikes between reservation and swap
        trade = real_reserve(p, now)
        reserved.append(pool_atoms(japp))
        jupiter.down, jupiter.out_factor = fault == "outage", Decimal("0.01") if fault == "price_drop" else Decimal(1)
        return trade

    monkeypatch.setattr(trade_logger, "reserve", reserve_then_fault)
    before = pool_atoms(japp)
    with japp.app_context(), pytest.raises(execution.ExecutionFailed) as failed:
        execution.run(japp.extensions["market"], plan)
    assert failed.value.code == ("EXECUTION_FAILED" if fault == "outage" else "SLIPPAGE_EXCEEDED")
    assert before[1] - reserved[0][1] >= plan.legs[0].out_amount_atoms - 10**USDC.decimals  # it was reserved
    trade = get_trade(japp, failed.value.trade.id)
    assert trade.status == "failed" and trade.failed_at is not None and trade.executed_at is None
    after = pool_atoms(japp)
    assert after[0] == before[0] and after[1] >= before[1]  # given back (plus any replenishment)
    assert_reconciles(japp)


def test_jupiter_failing_mid_execution_is_a_503_naming_the_failed_trade(
        sapp: Flask, jupiter: ScriptedJupiter, monkeypatch: pytest.MonkeyPatch) -> None:
    real_reserve = trade_logger.reserve

    def reserve_then_outage(p: trade_logger.FillPlan, now):
        trade = real_reserve(p, now)
        jupiter.down = True
        return trade

    monkeypatch.setattr(trade_logger, "reserve", reserve_then_outage)
    res = sapp.test_client().post("/api/v1/trades", json=SELL_10, headers={"Idempotency-Key": "j-1"})
    error = res.get_json()["error"]
    assert res.status_code == 503 and error["code"] == "EXECUTION_FAILED"
    assert sapp.test_client().get(f"/api/v1/trades/{error['trade_id']}").get_json()["status"] == "failed"
    jupiter.down = False
    again = sapp.test_client().post("/api/v1/trades", json=SELL_10, headers={"Idempotency-Key": "j-1"})
    assert again.status_code == 503 and again.get_json()["error"]["trade_id"] == error["trade_id"]  # replayed


# ---- pending -> filled | failed, recovery and reconcile ---------------------------------------------------------

def test_a_filled_trade_went_through_pending_with_ordered_timestamps(sapp: Flask) -> None:
    body = sapp.test_client().post("/api/v1/trades", json=SELL_1000).get_json()
    trade = get_trade(sapp, body["id"])
    assert trade.status == "filled" and trade.created_at <= trade.executed_at <= trade.settled_at
    assert trade.failed_at is None


def test_only_one_finisher_wins_a_pending_trade(sapp: Flask) -> None:
    with sapp.app_context():
        trade = trade_logger.reserve(split_plan(sapp, "fin"), utcnow())
        failed = trade_logger.fail(trade.id, "EXECUTION_LOST", "lost", utcnow())
        settled = trade_logger.settle(trade.id, {}, utcnow())
        assert failed.status == settled.status == "failed"
    assert_reconciles(sapp)


KILL_SCRIPT = """
import pathlib, sys, time
sys.path.insert(0, {root!r})
from app import create_app
from services import execution
from services import quoting
from services import trading
from tests.integrity_support import ScriptedJupiter
jupiter = ScriptedJupiter()
jupiter.down = {jupiter_down!r}
app = create_app({{"TESTING": True, "SQLALCHEMY_DATABASE_URI": {url!r}, "SECRET_KEY": "x", "JUPITER_CLIENT": jupiter}})
def stall(market, plan):
    pathlib.Path({marker!r}).write_text("reserved")
    time.sleep(120)
execution.execute_legs = stall
with app.app_context():
    order = quoting.parse_order({{"input": "SOL", "output": "USDC", "amount": {amount!r}}})
    trading.execute(app.extensions["market"], order, idempotency_key="killed")
"""


@pytest.mark.pg
@pytest.mark.parametrize(("backend", "jupiter_down"), [("sqlite", True), ("postgresql", False)],
                         ids=["sqlite-otc-only", "postgresql-with-jupiter"])
def test_a_worker_killed_mid_trade_leaves_a_pending_trade_that_recover_finishes(
        request: pytest.FixtureRequest, tmp_path: Path, backend: str, jupiter_down: bool) -> None:
    url = f"sqlite:///{tmp_path / 'test.db'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    app = build_app(url)
    marker = tmp_path / "reserved"
    amount = "25000" if jupiter_down else "60000"  # OTC alone; above the pool's max size, so Jupiter takes a part
    script = KILL_SCRIPT.format(root=str(ROOT), url=url, marker=str(marker), jupiter_down=jupiter_down, amount=amount)
    worker = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert worker.poll() is None, worker.stderr.read().decode() if worker.stderr else ""
            assert time.monotonic() < deadline, "the worker never reserved its trade"
            time.sleep(0.05)
        os.kill(worker.pid, signal.SIGKILL)  # the worker dies between reservation and settlement
    finally:
        worker.kill()
        worker.wait(timeout=30)
        if worker.stderr:
            worker.stderr.close()
    with app.app_context():
        trade = db.session.scalar(select(Trade))
        assert trade.status == "pending"
        expected = "failed" if any(leg.pool_id is None for leg in trade.legs) else "filled"
        assert expected == ("filled" if jupiter_down else "failed")
        trade_id = trade.id
    assert_reconciles(app)  # the reservation is counted while pending
    result = app.test_cli_runner().invoke(args=["recover", "--older-than", "0"])
    assert result.exit_code == 0 and f"trade #{trade_id}: pending -> {expected}" in result.output
    assert get_trade(app, trade_id).status == expected
    assert_reconciles(app)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_start_up_recovery_finishes_only_trades_pending_past_the_timeout(sapp: Flask) -> None:
    with sapp.app_context():
        stale = trade_logger.reserve(split_plan(sapp, "stale"), utcnow() - timedelta(minutes=5))
        fresh = trade_logger.reserve(split_plan(sapp, "fresh"), utcnow())
        stale_id, fresh_id = stale.id, fresh.id
    sapp.config["PENDING_TIMEOUT_S"] = 60
    worker.recover_on_startup(sapp)
    assert get_trade(sapp, stale_id).status == "failed" and get_trade(sapp, stale_id).error_code == "EXECUTION_LOST"
    assert get_trade(sapp, fresh_id).status == "pending"
    assert_reconciles(sapp)


def test_start_up_recovery_skips_a_database_without_tables(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'e.db'}"})
    with caplog.at_level(logging.INFO, logger="cli.worker"):
        worker.recover_on_startup(app)  # a worker started before `flask db upgrade` ran: no exception escapes
    skipped = [r for r in caplog.records if r.name == "cli.worker"]
    assert [r.getMessage() for r in skipped] == ["start-up recovery skipped (database not ready: OperationalError)"]
    assert skipped[0].levelno == logging.INFO  # expected during a deploy: not a warning
    with app.app_context():
        assert inspect(db.engine).get_table_names() == []  # it created nothing (migrations own the schema)
        db.engine.dispose()


def test_reconcile_command_passes_and_fails_on_a_pool_that_does_not_add_up(sapp: Flask) -> None:
    runner = sapp.test_cli_runner()
    sapp.test_client().post("/api/v1/trades", json=SELL_25K)
    ok = runner.invoke(args=["reconcile"])
    assert ok.exit_code == 0 and ok.output.strip().endswith("reconcile: OK"), ok.output
    with sapp.app_context():
        pool = db.session.scalar(select(OTCPool).where(OTCPool.name == "sol-usdc"))
        pool.quote_atoms += 1  # an inventory change no trade explains
        db.session.commit()
    bad = runner.invoke(args=["reconcile"])
    assert bad.exit_code == 1 and "MISMATCH" in bad.output and "reconcile: FAILED" in bad.output


def test_a_running_worker_recovers_stale_pending_trades_on_its_jobs_cadence_not_in_requests(sapp: Flask) -> None:
    with sapp.app_context():
        stale_id = trade_logger.reserve(split_plan(sapp, "stale-running"), utcnow() - timedelta(minutes=5)).id
    sapp.config.update(PENDING_TIMEOUT_S=60, METRICS_SNAPSHOT_S=3600)
    sapp.extensions.pop("olr_metrics_throttle", None)  # the throttle reads METRICS_SNAPSHOT_S when first used
    sapp.test_client().get("/api/v1/pools")  # a request does no background work
    assert get_trade(sapp, stale_id).status == "pending"
    assert worker.tick(sapp) is not None  # the worker's first tick is due at once
    assert get_trade(sapp, stale_id).status == "failed"
    assert_reconciles(sapp)
