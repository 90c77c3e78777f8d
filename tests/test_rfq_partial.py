"""A maker that accepted at last look is filled whatever happens next: partial fills, and recovery of a swap whose
answer was lost (issue 15). The simulated makers answer through the in-process transport."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

import jupiter_api
import trade_logger
from ledger import maker_log, reconcile
from ledger.maker_tables import MakerSwap
from ledger.tca_store import TradeTca
from models import AuditLog, OTCPool, Trade, db, utcnow
from services import chain_execution, execution
from services.market import Market
from tests.conftest import behave, build_app, seed_instant_makers
from venues.rfq_client import RfqClient

BIG = {"input": "SOL", "output": "USDC", "amount": "100000"}  # alpha, beta, the pool and Jupiter share it
MID = {"input": "SOL", "output": "USDC", "amount": "25000"}


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """The app with the two simulated makers: no latency; alpha 40 bps and beta 30 bps better than their engines."""
    app = build_app(f"sqlite:///{tmp_path / 'partial.db'}")
    seed_instant_makers(app, {"alpha": 40, "beta": 30})
    yield app
    with app.app_context():
        db.engine.dispose()


def pools(app: Flask) -> dict[str, tuple[int, int]]:
    with app.app_context():
        return {p.name: (p.base_atoms, p.quote_atoms) for p in db.session.scalars(select(OTCPool))}


def jupiter_down_after_reserve(monkeypatch: pytest.MonkeyPatch) -> None:
    """Jupiter fails every quote once the trade is reserved: the execution-time price of its Jupiter leg."""
    real_reserve = trade_logger.reserve

    def fail(self: Market, *args: Any, **kwargs: Any) -> Any:
        raise jupiter_api.JupiterError("simulated outage at execution", code="UPSTREAM_5XX")

    def reserve_then_outage(plan: trade_logger.FillPlan, now: Any) -> Trade:
        trade = real_reserve(plan, now)
        monkeypatch.setattr(Market, "leg_quote", fail)
        return trade

    monkeypatch.setattr(trade_logger, "reserve", reserve_then_outage)


def legs_of(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {leg["venue"]: leg for leg in body["decision"]["legs"]}


def assert_reconciles(app: Flask) -> None:
    with app.app_context():
        report = reconcile.check(utcnow())
        assert report.ok, "\n".join(reconcile.render(report))


def test_accepted_makers_fill_when_the_jupiter_leg_then_fails(app: Flask, client: FlaskClient,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    quote = client.post("/api/v1/quotes", json=BIG).get_json()
    planned = legs_of(quote)
    assert {"rfq:alpha", "rfq:beta", "jupiter"} <= set(planned)
    before = pools(app)
    jupiter_down_after_reserve(monkeypatch)
    res = client.post("/api/v1/trades", json={"quote_id": quote["quote_id"]})
    assert res.status_code == 201, res.get_json()
    trade = res.get_json()
    assert trade["status"] == "partial" and trade["error_code"] == "EXECUTION_FAILED"
    assert "partially filled" in trade["error"] and "rfq:alpha" in trade["error"]
    got = {leg["venue"]: (leg["in_amount_atoms"], leg["out_amount_atoms"]) for leg in trade["legs"]}
    assert got == {v: (planned[v]["in_amount_atoms"], planned[v]["out_amount_atoms"]) for v in ("rfq:alpha",
                                                                                               "rfq:beta")}
    assert int(trade["in_amount_atoms"]) == sum(int(a) for a, _ in got.values())
    assert pools(app)["sol-usdc"][1] >= before["sol-usdc"][1]  # the pool's reservation was given back
    assert_reconciles(app)
    with app.app_context():
        swaps = {s.venue: s.state for s in maker_log.swaps_of_trade(trade["id"])}
        assert swaps == {"rfq:alpha": "accepted", "rfq:beta": "accepted"}
        row = db.session.get(TradeTca, trade["id"])
        assert row is not None and row.shortfall_bps is not None and row.savings_jupiter_one_shot_bps is None
    summary = client.get("/api/v1/analytics/summary").get_json()
    assert summary["trades_by_status"].get("partial") == 1
    assert int(summary["volume_usd_atoms"]) > 0  # what filled counts


def test_an_accepted_maker_fills_when_the_pool_leg_then_fails(app: Flask, client: FlaskClient,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    quote = client.post("/api/v1/quotes", json=BIG).get_json()
    assert "otc:sol-usdc" in legs_of(quote)
    before = pools(app)

    def pool_fault(market: Market, plan: Any, *args: Any) -> Any:
        raise RuntimeError("the pool leg broke")

    monkeypatch.setattr(execution, "execute_legs", pool_fault)  # the legs after last look, either path
    monkeypatch.setattr(chain_execution, "execute", pool_fault)
    res = client.post("/api/v1/trades", json={"quote_id": quote["quote_id"]})
    assert res.status_code == 201, res.get_json()  # the makers' legs moved: the trade says so, never a bare 500
    with app.app_context():
        trade = db.session.scalar(select(Trade).where(Trade.quote_id == quote["quote_id"]))
        assert trade is not None and trade.status == "partial" and trade.error_code == "INTERNAL"
        assert {leg.venue for leg in trade.legs} == {"rfq:alpha", "rfq:beta"}
        assert all(leg.pool_id is None for leg in trade.legs)
    after = pools(app)
    assert after["sol-usdc"][0] == before["sol-usdc"][0] and after["sol-usdc"][1] >= before["sol-usdc"][1]
    assert_reconciles(app)


def test_a_second_maker_rejecting_and_a_failing_reroute_leave_the_first_makers_leg_filled(
        app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    behave(app, "beta", price_offset_bps=40)
    quote = client.post("/api/v1/quotes", json=MID).get_json()
    planned = legs_of(quote)
    assert set(planned) == {"rfq:alpha", "rfq:beta"}
    behave(app, "beta", reject_pct=100)
    jupiter_down_after_reserve(monkeypatch)  # beta's leg is re-routed to Jupiter (no free maker), which fails
    res = client.post("/api/v1/trades", json={"quote_id": quote["quote_id"]})
    assert res.status_code == 201, res.get_json()
    trade = res.get_json()
    assert trade["status"] == "partial" and trade["venue"] == "rfq:alpha"
    assert [(leg["venue"], leg["out_amount_atoms"]) for leg in trade["legs"]] == [
        ("rfq:alpha", planned["rfq:alpha"]["out_amount_atoms"])]
    assert trade["out_amount_atoms"] == planned["rfq:alpha"]["out_amount_atoms"]
    with app.app_context():
        beta = db.session.scalar(select(MakerSwap).where(MakerSwap.venue == "rfq:beta"))
        assert beta is not None and beta.state == "rejected" and beta.rerouted_to == "jupiter"
    detail = client.get(f"/trades/{trade['id']}").get_data(as_text=True)
    assert "partially filled" in detail and "Nothing moved." not in detail
    assert_reconciles(app)


def lose_the_swap_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """The process dies while a maker swap is in flight: claimed, sent, never answered (not an Exception)."""
    def die(self: RfqClient, *args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(RfqClient, "swap", die)


@pytest.mark.parametrize(("answer", "status"), [("accepted", "filled"), ("rejected", "failed")])
def test_a_lost_swap_answer_holds_the_trade_unknown_until_ops_records_the_makers_answer(
        app: Flask, client: FlaskClient, runner_of: Any, monkeypatch: pytest.MonkeyPatch, answer: str,
        status: str) -> None:
    behave(app, "beta", price_offset_bps=0)
    quote = client.post("/api/v1/quotes", json=MID).get_json()
    assert set(legs_of(quote)) == {"rfq:alpha"}
    lose_the_swap_answer(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        client.post("/api/v1/trades", json={"quote_id": quote["quote_id"]})
    monkeypatch.undo()
    held = pools(app)
    market = app.extensions["market"]
    with app.app_context():
        trade = db.session.scalar(select(Trade).where(Trade.quote_id == quote["quote_id"]))
        assert trade is not None and trade.status == "pending"
        trade_id = trade.id
        [moved] = execution.recover(utcnow(), 0, market)
        assert moved.status == "unknown" and moved.error_code == "RFQ_SWAP_UNANSWERED"
        assert "only the maker can say" in (moved.error or "")
        assert execution.recover(utcnow(), 0, market) == []  # asked again: still held, nothing released
        sending = [s for s in maker_log.swaps_of_trade(trade_id) if s.state == "sending"]
        assert len(sending) == 1
        sending[0].at = utcnow() - timedelta(minutes=1)  # lost a while ago: monitoring shows it to ops
        db.session.commit()
        quote_id = sending[0].quote_id
    assert pools(app) == held
    page = client.get("/monitoring").get_data(as_text=True)
    assert f'data-unanswered="{quote_id}"' in page and f"trade #{trade_id}" in page
    out = runner_of(app).invoke(args=["rfq-swap-answer", quote_id, answer])
    assert out.exit_code == 0, out.output
    assert runner_of(app).invoke(args=["rfq-swap-answer", quote_id, answer]).exit_code != 0  # answered once
    with app.app_context():
        assert db.session.scalar(select(AuditLog.after).where(AuditLog.action == "rfq.swap_answer"))["state"] == answer
    with app.app_context():
        [done] = execution.recover(utcnow(), 0, market)
        assert done.id == trade_id and done.status == status
    assert_reconciles(app)


@pytest.fixture
def runner_of() -> Any:
    """A CLI runner for an app."""
    return lambda app: app.test_cli_runner()


def test_a_maker_leg_rerouted_to_jupiter_on_chain_fills_within_the_trades_slippage(
        app: Flask, client: FlaskClient) -> None:
    quote = client.post("/api/v1/quotes", json={**BIG, "slippage_bps": 100}).get_json()
    planned = legs_of(quote)
    assert {"jupiter", "rfq:beta"} <= set(planned), planned
    behave(app, "beta", reject_pct=100)
    res = client.post("/api/v1/trades", json={"quote_id": quote["quote_id"]})
    trade = res.get_json()
    assert res.status_code == 201 and trade["status"] == "filled", trade
    assert int(trade["out_amount_atoms"]) >= int(quote["decision"]["min_out_amount_atoms"])
