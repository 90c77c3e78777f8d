"""`flask --app main simulate`: demo trades through the real router, back-dated, with metrics history."""
from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from cli.demo import random_order
from models import Quote, SystemMetrics, Trade, db, utcnow
from tests.conftest import build_app

TRADES = 60


@pytest.fixture(scope="module")
def sim_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One app for this module's read-only checks, on which the command ran once."""
    app = build_app(f"sqlite:///{tmp_path_factory.mktemp('simulate') / 'sim.db'}")
    result = app.test_cli_runner().invoke(args=["simulate", "--trades", str(TRADES), "--days", "3", "--seed", "11"])
    assert result.exit_code == 0, result.output
    app.config["SIMULATE_OUTPUT"] = result.output
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def simulated(sim_app: Flask) -> str:
    """The command's output."""
    return sim_app.config["SIMULATE_OUTPUT"]


def test_a_fresh_database_has_no_trades_until_demo_data_is_asked_for(app: Flask) -> None:
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Trade)) == 0


def test_simulate_routes_every_order_and_reports_the_outcomes(sim_app: Flask, simulated: str) -> None:
    assert f"{TRADES} orders from" in simulated and "metrics snapshots" in simulated
    with sim_app.app_context():
        recorded = db.session.scalar(select(func.count()).select_from(Trade))
    # every order is a trade, except firm quotes refused at execution (they record nothing, as on the web)
    refused = sum(int(n) for n, kind in _outcomes(simulated) if kind in ("slippage refused", "no route",
                                                                          "quote expired"))
    assert recorded == TRADES - refused


def _outcomes(output: str) -> list[tuple[str, str]]:
    """[(count, kind)] from the summary line: '... UTC: 55 filled, 5 rejected; 40 metrics snapshots'."""
    middle = output.rsplit("UTC: ", 1)[1].split(";")[0]
    return [tuple(part.strip().split(" ", 1)) for part in middle.split(",")]  # type: ignore[misc]


def test_simulated_trades_are_back_dated_over_the_period_with_a_consistent_timeline(sim_app: Flask) -> None:
    now = utcnow()
    with sim_app.app_context():
        trades = db.session.scalars(select(Trade)).all()
    filled = [t for t in trades if t.status == "filled"]
    assert filled, "some trades fill"
    assert all(now - timedelta(days=3, minutes=5) <= t.created_at <= now for t in trades)
    assert max(t.created_at for t in trades) - min(t.created_at for t in trades) > timedelta(days=1)
    for t in filled:
        assert t.quoted_at <= t.executed_at <= t.settled_at
        assert t.settled_at - t.executed_at < timedelta(seconds=5)


def test_simulated_orders_cover_both_pairs_both_directions_and_small_to_block_sizes(sim_app: Flask) -> None:
    with sim_app.app_context():
        trades = db.session.scalars(select(Trade).where(Trade.status == "filled")).all()
    assert {t.pair for t in trades} == {"SOL/USDC", "SOL/USDT"}
    assert {t.input_symbol == "SOL" for t in trades} == {True, False}
    assert {t.swap_mode for t in trades} == {"ExactIn", "ExactOut"}
    usd = sorted(t.notional_usd_atoms // 10**6 for t in trades)
    assert usd[0] < 50_000 and usd[-1] > 1_000_000, "small and block trades"
    venues = {leg.venue for t in trades for leg in t.legs}
    assert "jupiter" in venues and any(v.startswith("otc:") for v in venues), "the router used both kinds of venue"


def test_simulated_firm_quotes_are_stored_and_used_once(sim_app: Flask, simulated: str) -> None:
    with sim_app.app_context():
        quoted = db.session.scalars(select(Trade).where(Trade.quote_id.is_not(None))).all()
        assert quoted, "some orders go through a firm quote"
        for trade in quoted:
            quote = db.session.get(Quote, trade.quote_id)
            assert quote is not None and quote.trade_id == trade.id and quote.used_at is not None
            assert quote.created_at <= trade.executed_at <= quote.expires_at


def test_simulate_writes_metrics_snapshots_over_the_simulated_period(sim_app: Flask, simulated: str) -> None:
    with sim_app.app_context():
        rows = db.session.scalars(select(SystemMetrics).order_by(SystemMetrics.recorded_at)).all()
    assert len(rows) > 100
    assert rows[-1].recorded_at - rows[0].recorded_at > timedelta(days=2)
    assert sum(r.jupiter_calls for r in rows) > TRADES
    clean = [r for r in rows if r.jupiter_calls and not r.jupiter_errors]  # an open breaker answers in 0 ms
    assert clean and all(r.jupiter_p50_ms is not None and r.jupiter_p50_ms > 0 for r in clean), "simulated latency"


def test_simulated_fills_keep_pool_inventory_reconciled(sim_app: Flask, simulated: str) -> None:
    result = sim_app.test_cli_runner().invoke(args=["reconcile"])
    assert result.exit_code == 0, result.output


def test_simulate_refuses_live_mode(app: Flask, runner: FlaskCliRunner) -> None:
    app.config["JUPITER_MODE"] = "live"
    result = runner.invoke(args=["simulate", "--trades", "3"])
    assert result.exit_code != 0
    assert "JUPITER_MODE=sim" in result.output


def test_the_same_seed_gives_the_same_orders(app: Flask) -> None:
    with app.app_context():
        at = utcnow() - timedelta(days=1)
        first = [random_order(random.Random(5), at) for _ in range(3)]
        again = [random_order(random.Random(5), at) for _ in range(3)]
    assert first == again
