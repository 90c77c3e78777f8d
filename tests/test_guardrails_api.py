"""Guardrails through the API and the quote page (issue 16): CONFIRM_REQUIRED moves nothing, acknowledge_cost
executes, existing clients are unaffected by default, quotes carry their colours, COST_LIMIT suggests a parent."""
from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ledger.parent_orders import ParentOrder
from models import OTCPool, Quote, Trade, db
from services.guardrails import Guardrails
from tests.conftest import build_app

SELL_1000 = {"input": "SOL", "output": "USDC", "amount": "1000"}  # about 150,000 USD notional
SELL_10 = {"input": "SOL", "output": "USDC", "amount": "10"}


@pytest.fixture
def strict_app(tmp_path: Path) -> Iterator[Flask]:
    """A desk that demands the hard confirm on the API too, above 100,000 USD notional."""
    app = build_app(f"sqlite:///{tmp_path / 'strict.db'}", HARD_CONFIRM_API=True, HARD_CONFIRM_USD="100000")
    yield app
    with app.app_context():
        db.engine.dispose()


def _state(app: Flask) -> tuple[list[tuple[int, int]], int, int]:
    """(every pool's stored inventory, trades recorded, parent orders placed)."""
    with app.app_context():
        pools = [(p.base_atoms, p.quote_atoms) for p in db.session.scalars(db.select(OTCPool).order_by(OTCPool.id))]
        trades = db.session.scalar(db.select(db.func.count()).select_from(Trade)) or 0
        parents = db.session.scalar(db.select(db.func.count()).select_from(ParentOrder)) or 0
    return pools, trades, parents


def test_an_unacknowledged_api_trade_above_the_usd_threshold_is_refused_and_moves_nothing(strict_app: Flask) -> None:
    client = strict_app.test_client()
    before = _state(strict_app)
    refused = client.post("/api/v1/trades", json=SELL_1000, headers={"Idempotency-Key": "big-1"})
    assert refused.status_code == 422, refused.get_json()
    error = refused.get_json()["error"]
    assert error["code"] == "CONFIRM_REQUIRED"
    assert "bps all-in" in error["message"] and "USD notional" in error["message"]
    assert "trade_id" not in error and _state(strict_app) == before  # no inventory moved, no trade recorded
    done = client.post("/api/v1/trades", json={**SELL_1000, "acknowledge_cost": True},
                       headers={"Idempotency-Key": "big-1"})  # the key was not used up by the refusal
    assert done.status_code == 201, done.get_json()
    assert done.get_json()["status"] == "filled" and _state(strict_app)[1] == 1


def test_a_trade_below_the_thresholds_needs_no_acknowledgement(strict_app: Flask) -> None:
    assert strict_app.test_client().post("/api/v1/trades", json=SELL_10).status_code == 201


def test_a_stored_quote_above_the_threshold_stays_usable_after_the_refusal(strict_app: Flask) -> None:
    client = strict_app.test_client()
    quote = client.post("/api/v1/quotes", json=SELL_1000).get_json()
    assert quote["guardrails"]["confirm_required"] is True
    before = _state(strict_app)
    refused = client.post("/api/v1/trades", json={"quote_id": quote["quote_id"]})
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "CONFIRM_REQUIRED"
    assert _state(strict_app) == before
    with strict_app.app_context():
        row = db.session.get(Quote, quote["quote_id"])
        assert row is not None and row.used_at is None and row.trade_id is None
    done = client.post("/api/v1/trades", json={"quote_id": quote["quote_id"], "acknowledge_cost": True})
    assert done.status_code == 201 and done.get_json()["quote_id"] == quote["quote_id"]


def test_a_parent_order_above_the_usd_threshold_needs_the_acknowledgement(strict_app: Flask) -> None:
    client = strict_app.test_client()
    body = {**SELL_1000, "strategy": "twap", "duration_s": 600, "slices": 10}
    before = _state(strict_app)
    refused = client.post("/api/v1/orders", json=body)
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "CONFIRM_REQUIRED"
    assert _state(strict_app) == before
    assert client.post("/api/v1/orders", json={**body, "acknowledge_cost": True}).status_code == 201


@pytest.mark.parametrize("value", ["true", 1, None])
def test_acknowledge_cost_that_is_not_a_boolean_is_a_400_naming_it(strict_app: Flask, value: object) -> None:
    res = strict_app.test_client().post("/api/v1/trades", json={**SELL_10, "acknowledge_cost": value})
    assert res.status_code == 400 and res.get_json()["error"]["field"] == "acknowledge_cost"
    assert _state(strict_app)[1] == 0


def test_existing_api_clients_trade_large_sizes_without_acknowledging_by_default(client: FlaskClient) -> None:
    res = client.post("/api/v1/trades", json={"input": "SOL", "output": "USDC", "amount": "100000"})
    assert res.status_code == 201, res.get_json()  # HARD_CONFIRM_API is off: scripts keep working


def test_the_quote_page_refuses_an_unacknowledged_execution_above_the_threshold(app: Flask,
                                                                               client: FlaskClient) -> None:
    """The browser's path (the execute form) always applies the hard confirm, whatever HARD_CONFIRM_API says."""
    quote = client.post("/api/v1/quotes", json={"input": "SOL", "output": "USDC", "amount": "50000"}).get_json()
    rails = quote["guardrails"]
    assert rails["confirm_required"] is True and int(rails["notional_usd_atoms"]) > 5_000_000 * 10**6
    page = client.get(f"/quotes/{quote['quote_id']}").get_data(as_text=True)
    assert 'id="hard-confirm"' in page and 'data-confirm-required="true"' in page and 'id="confirm-ack"' in page
    before = _state(app)
    res = client.post(f"/quotes/{quote['quote_id']}/execute", data={"token": "t-1"})
    assert res.status_code == 303 and res.headers["Location"].endswith(f"/quotes/{quote['quote_id']}")
    assert "CONFIRM" not in res.headers["Location"] and _state(app) == before
    assert "hard-confirm threshold" in client.get(res.headers["Location"]).get_data(as_text=True)
    done = client.post(f"/quotes/{quote['quote_id']}/execute", data={"token": "t-2", "acknowledge_cost": "y"})
    assert done.status_code == 303 and "/trades/" in done.headers["Location"]
    assert _state(app)[1] == 1


def test_a_small_quote_page_has_no_hard_confirm(client: FlaskClient) -> None:
    quote = client.post("/api/v1/quotes", json=SELL_10).get_json()
    assert quote["guardrails"]["confirm_required"] is False
    page = client.get(f"/quotes/{quote['quote_id']}").get_data(as_text=True)
    assert 'id="hard-confirm"' not in page and 'data-confirm-required="false"' in page
    assert client.post(f"/quotes/{quote['quote_id']}/execute", data={"token": "t-9"}).status_code == 303


def test_a_quote_carries_the_level_of_its_route_and_of_every_option(app: Flask, client: FlaskClient) -> None:
    quote = client.post("/api/v1/quotes", json={"input": "SOL", "output": "USDC", "amount": "25000"}).get_json()
    rails = Guardrails.from_config(app.config)
    got = quote["guardrails"]
    assert got["level"] == rails.level(Decimal(quote["decision"]["cost_bps"]))
    available = {o["venue"]: o["cost_bps"] for o in quote["options"] if o["available"]}
    assert got["option_levels"] == {v: rails.level(Decimal(c)) for v, c in available.items()}
    assert len(set(got["option_levels"].values())) > 1  # 25,000 SOL: the dealer is cheap, Jupiter is not
    page = client.get(f"/quotes/{quote['quote_id']}").get_data(as_text=True)
    assert f'data-level="{got["level"]}"' in page and 'id="cost-legend"' in page
    assert "amber above 25.0 bps" in page and "red above 100.0 bps" in page


@pytest.fixture
def tight_app(tmp_path: Path) -> Iterator[Flask]:
    """A desk whose ceiling MAX_COST_BPS is 30 bps."""
    app = build_app(f"sqlite:///{tmp_path / 'tight.db'}", MAX_COST_BPS=Decimal(30))
    yield app
    with app.app_context():
        db.engine.dispose()


def test_a_cost_limit_refusal_suggests_the_parent_order_that_fits(tight_app: Flask) -> None:
    client = tight_app.test_client()
    order = {"input": "SOL", "output": "USDC", "amount": "150000"}
    res = client.post("/api/v1/quotes", json=order)
    assert res.status_code == 422
    error = res.get_json()["error"]
    assert error["code"] == "COST_LIMIT"
    s = error["suggestion"]
    assert s["strategy"] == "twap" and s["slices"] >= 2 and s["duration_s"] == s["slices"] * 60
    assert f"work it as a parent order: {s['slices']} slices over" in error["message"]
    assert s["order"]["amount"] == "150000" and s["order"]["input_symbol"] == "SOL"
    one_slice = client.post("/api/v1/quotes", json={**order, "amount": str(150_000 // s["slices"])})
    assert one_slice.status_code == 200  # the suggested slice does fit under the ceiling
    assert Decimal(one_slice.get_json()["decision"]["cost_bps"]) <= 30
    trade = client.post("/api/v1/trades", json=order)
    assert trade.status_code == 422 and trade.get_json()["error"]["suggestion"]["slices"] == s["slices"]
    ticket = client.post("/trade", data={**order, "swap_mode": "ExactIn", "slippage_bps": "50"})
    page = ticket.get_data(as_text=True)
    assert 'id="parent-suggestion"' in page and f"slices={s['slices']}" in page and "strategy=twap" in page


def test_a_cost_limit_nothing_fits_says_so_with_a_null_suggestion(tmp_path: Path) -> None:
    app = build_app(f"sqlite:///{tmp_path / 'none.db'}", MAX_COST_BPS=Decimal("0.1"))
    res = app.test_client().post("/api/v1/quotes", json={"input": "SOL", "output": "USDC", "amount": "150000"})
    error = res.get_json()["error"]
    assert error["code"] == "COST_LIMIT" and error["suggestion"] is None and "no parent order" in error["message"]
    with app.app_context():
        db.engine.dispose()


def test_the_dashboard_and_the_ticket_raise_a_drained_pool(app: Flask, client: FlaskClient) -> None:
    assert client.get("/api/v1/analytics/dashboard").get_json()["alerts"] == []
    with app.app_context():
        pool = db.session.scalar(db.select(OTCPool).where(OTCPool.name == "sol-usdc"))
        assert pool is not None
        pool.quote_atoms = pool.target_quote_atoms // 500
        db.session.commit()
    found = client.get("/api/v1/analytics/dashboard").get_json()["alerts"]
    assert [(a["kind"], a["venue"]) for a in found] == [("pool_low", "otc:sol-usdc")]
    assert 'data-venue="otc:sol-usdc"' in client.get("/").get_data(as_text=True)
    ticket = client.get("/trade?input=SOL&output=USDC&amount=10").get_data(as_text=True)
    assert 'id="ticket-alerts"' in ticket and 'data-venue="otc:sol-usdc"' in ticket
    other = client.get("/trade?input=SOL&output=USDT&amount=10").get_data(as_text=True)
    assert 'data-venue="otc:sol-usdc"' not in other
    quote = client.post("/api/v1/quotes", json=SELL_10).get_json()
    assert [a["venue"] for a in quote["guardrails"]["alerts"]] == ["otc:sol-usdc"]
