"""Execution integrity: idempotency keys and one-time form tokens, firm quotes (404/409/410), the slippage guard."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from models import Quote, Trade, db, utcnow
from services import execution
from tests.conftest import client_with_token, make_token
from tests.integrity_support import (
    ScriptedJupiter,
    assert_reconciles,
    get_trade,
    pool_atoms,
    race,
    set_pool,
    trade_count,
    unscoped,
)

pytest_plugins = ["tests.integrity_fixtures"]  # its fixtures: jupiter, japp, sapp
SELL_10 = {"input": "SOL", "output": "USDC", "amount": "10"}  # small: Jupiter fills it
SELL_1000 = {"input": "SOL", "output": "USDC", "amount": "1000"}


# ---- idempotency ----------------------------------------------------------------------------------------------

@pytest.mark.pg
def test_one_idempotency_key_sent_by_eight_threads_at_once_makes_exactly_one_trade(japp: Flask) -> None:
    base0, _ = pool_atoms(japp)

    def post(_: int):
        res = japp.test_client().post("/api/v1/trades", json=SELL_1000, headers={"Idempotency-Key": "dbl-click"})
        return res.status_code, res.get_json()

    results = race(8, post)
    assert sorted(status for status, _ in results) == [200] * 7 + [201]
    assert len({body["id"] for _, body in results}) == 1
    with japp.app_context():
        rows = db.session.scalars(select(Trade)).all()
    assert len(rows) == 1 and unscoped(rows[0].idempotency_key) == "dbl-click" and rows[0].status == "filled"
    trade = get_trade(japp, rows[0].id)
    base1, _ = pool_atoms(japp)
    assert base1 - base0 == sum(leg.in_amount_atoms for leg in trade.legs if leg.pool_id)  # moved once
    assert_reconciles(japp)  # and the payout side: paid exactly once (replenishment accounted)


def test_same_key_with_another_body_is_a_409_and_moves_nothing(sapp: Flask) -> None:
    client = sapp.test_client()
    headers = {"Idempotency-Key": "k-1"}
    assert client.post("/api/v1/trades", json=SELL_10, headers=headers).status_code == 201
    res = client.post("/api/v1/trades", json=SELL_1000, headers=headers)
    assert res.status_code == 409 and res.get_json()["error"]["code"] == "IDEMPOTENCY_CONFLICT"
    assert trade_count(sapp) == 1


def test_a_refused_trade_is_refused_again_when_retried_with_its_key(sapp: Flask, jupiter: ScriptedJupiter) -> None:
    jupiter.down = True
    set_pool(sapp, active=False)
    client = sapp.test_client()
    first = client.post("/api/v1/trades", json=SELL_1000, headers={"Idempotency-Key": "r-1"})
    again = client.post("/api/v1/trades", json=SELL_1000, headers={"Idempotency-Key": "r-1"})
    assert first.status_code == again.status_code == 503
    assert first.get_json()["error"]["code"] == again.get_json()["error"]["code"] == "VENUE_UNAVAILABLE"
    assert first.get_json()["error"]["trade_id"] == again.get_json()["error"]["trade_id"]
    assert trade_count(sapp) == 1


def test_two_users_with_the_same_key_get_their_own_trades(sapp: Flask) -> None:
    alice, bob = (client_with_token(sapp, make_token(sapp, "trader")) for _ in range(2))
    a = alice.post("/api/v1/trades", json=SELL_10, headers={"Idempotency-Key": "same"})
    b = bob.post("/api/v1/trades", json=SELL_10, headers={"Idempotency-Key": "same"})
    assert a.status_code == b.status_code == 201 and a.get_json()["id"] != b.get_json()["id"]


# ---- firm quotes ------------------------------------------------------------------------------------------------

def quote_of(client: FlaskClient, order: dict) -> dict:
    """POST /api/v1/quotes, asserting 200."""
    res = client.post("/api/v1/quotes", json=order)
    assert res.status_code == 200, res.get_json()
    return res.get_json()


@pytest.mark.pg
def test_one_quote_raced_by_eight_threads_fills_once_and_the_rest_get_409(japp: Flask) -> None:
    quote = quote_of(japp.test_client(), SELL_1000)

    def post(i: int):
        res = japp.test_client().post("/api/v1/trades", json={"quote_id": quote["quote_id"]},
                                      headers={"Idempotency-Key": f"q-{i}"})
        return res.status_code, res.get_json()

    results = race(8, post)
    assert sorted(status for status, _ in results) == [201] + [409] * 7
    assert {body["error"]["code"] for status, body in results if status == 409} == {"QUOTE_ALREADY_USED"}
    with japp.app_context():
        used_by = select(func.count()).select_from(Trade).where(Trade.quote_id == quote["quote_id"])
        assert db.session.scalar(used_by) == 1
        assert db.session.get(Quote, quote["quote_id"]).used_at is not None
    assert_reconciles(japp)


def test_a_firm_otc_quote_fills_at_its_quoted_amounts(sapp: Flask) -> None:
    client = sapp.test_client()
    quote = quote_of(client, SELL_1000)
    res = client.post("/api/v1/trades", json={"quote_id": quote["quote_id"]})
    assert res.status_code == 201
    trade = res.get_json()
    assert int(trade["out_amount_atoms"]) >= int(quote["decision"]["min_out_amount_atoms"])
    quoted = {leg["venue"]: leg for leg in quote["decision"]["legs"]}
    for leg in trade["legs"]:
        if leg["venue"].startswith("otc:"):
            assert leg["out_amount_atoms"] == quoted[leg["venue"]]["out_amount_atoms"]  # the firm price, exactly


def test_an_expired_quote_is_a_410_and_moves_nothing(sapp: Flask) -> None:
    client = sapp.test_client()
    quote = quote_of(client, SELL_1000)
    with sapp.app_context():
        db.session.get(Quote, quote["quote_id"]).expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    before = pool_atoms(sapp)
    res = client.post("/api/v1/trades", json={"quote_id": quote["quote_id"]})
    assert res.status_code == 410 and res.get_json()["error"]["code"] == "QUOTE_EXPIRED"
    assert trade_count(sapp) == 0 and pool_atoms(sapp) == before


def test_a_quote_expiring_while_it_is_executed_is_a_410_and_moves_nothing(
        sapp: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    client = sapp.test_client()
    quote = quote_of(client, SELL_1000)
    before = pool_atoms(sapp)
    monkeypatch.setattr(execution, "utcnow", lambda: utcnow() + timedelta(hours=1))  # the reserve step runs late
    res = client.post("/api/v1/trades", json={"quote_id": quote["quote_id"]})
    assert res.status_code == 410
    assert trade_count(sapp) == 0 and pool_atoms(sapp) == before


def test_a_used_quote_is_a_409(sapp: Flask) -> None:
    client = sapp.test_client()
    quote = quote_of(client, SELL_10)
    assert client.post("/api/v1/trades", json={"quote_id": quote["quote_id"]}).status_code == 201
    again = client.post("/api/v1/trades", json={"quote_id": quote["quote_id"]})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "QUOTE_ALREADY_USED"


def test_the_execute_form_clicked_twice_with_its_token_makes_one_trade(sapp: Flask) -> None:
    client = sapp.test_client()
    quote = quote_of(client, SELL_10)
    first = client.post(f"/quotes/{quote['quote_id']}/execute", data={"token": "tok-1"})
    second = client.post(f"/quotes/{quote['quote_id']}/execute", data={"token": "tok-1"})
    assert first.status_code == second.status_code and first.status_code in (302, 303)
    assert first.headers["Location"] == second.headers["Location"]
    assert trade_count(sapp) == 1


# ---- slippage guard -------------------------------------------------------------------------------------------

def test_a_jupiter_price_drop_beyond_slippage_rejects_the_quote_and_moves_nothing(
        sapp: Flask, jupiter: ScriptedJupiter) -> None:
    client = sapp.test_client()
    quote = quote_of(client, {**SELL_10, "slippage_bps": 50})
    assert [leg["venue"] for leg in quote["decision"]["legs"]] == ["jupiter"]
    before = pool_atoms(sapp)
    jupiter.out_factor = Decimal("0.99")  # the market moved 100 bps against the trader, who accepted 50 (in band)
    res = client.post("/api/v1/trades", json={"quote_id": quote["quote_id"]})
    error = res.get_json()["error"]
    assert res.status_code == 422 and error["code"] == "SLIPPAGE_EXCEEDED"
    assert quote["decision"]["min_out_amount_atoms"] in error["message"]
    trade = get_trade(sapp, error["trade_id"])
    assert trade.status == "rejected" and trade.legs == [] and pool_atoms(sapp) == before
    assert client.post("/api/v1/trades", json={"quote_id": quote["quote_id"]}).status_code == 409  # used up


def test_a_jupiter_price_drop_within_slippage_fills_at_the_new_price(sapp: Flask, jupiter: ScriptedJupiter) -> None:
    client = sapp.test_client()
    quote = quote_of(client, {**SELL_10, "slippage_bps": 50})
    jupiter.out_factor = Decimal("0.999")  # 10 bps worse: within the 50 accepted
    res = client.post("/api/v1/trades", json={"quote_id": quote["quote_id"]})
    assert res.status_code == 201
    out = int(res.get_json()["out_amount_atoms"])
    assert int(quote["decision"]["min_out_amount_atoms"]) <= out < int(quote["decision"]["out_amount_atoms"])
