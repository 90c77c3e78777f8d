"""Rules of the JSON API: quotes, trades, pools, analytics, health, and errors that never 500."""
from __future__ import annotations

from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient

from models import OTCPool, Trade, db
from tests.conftest import client_with_token, make_token

SELL_25K = {"input": "SOL", "output": "USDC", "amount": "25000", "slippage_bps": 50}
SELL_10 = {"input": "SOL", "output": "USDC", "amount": "10"}


def inventory(app: Flask) -> list[tuple[int, int]]:
    with app.app_context():
        return [(p.base_atoms, p.quote_atoms) for p in db.session.scalars(db.select(OTCPool).order_by(OTCPool.id))]


def test_large_sol_sell_routes_to_otc_and_saves_against_jupiter(client: FlaskClient) -> None:
    body = client.post("/api/v1/quotes", json=SELL_25K).get_json()
    decision = body["decision"]
    assert decision["legs"][0]["venue"] == "otc:sol-usdc"
    assert int(decision["savings_atoms"]) > 0
    assert Decimal(decision["savings_bps"]) > 0
    jupiter = next(o for o in body["options"] if o["venue"] == "jupiter")
    assert int(decision["jupiter_only_out_amount_atoms"]) == int(jupiter["out_amount_atoms"])
    assert int(decision["min_out_amount_atoms"]) == int(decision["out_amount_atoms"]) * 9950 // 10_000
    assert body["quote_id"].startswith("q_") and body["expires_at"].endswith("Z")
    assert body["order"]["in_amount_atoms"] == "25000000000000"


def test_small_sol_sell_routes_to_jupiter(client: FlaskClient) -> None:
    body = client.post("/api/v1/quotes", json=SELL_10).get_json()
    assert body["decision"]["legs"][0]["venue"] == "jupiter"
    otc = next(o for o in body["options"] if o["venue"] == "otc:sol-usdc")
    assert otc["available"] is False and "min" in otc["reason"]


def test_quoting_executes_nothing(app: Flask, client: FlaskClient) -> None:
    before = inventory(app)
    assert client.post("/api/v1/quotes", json=SELL_25K).status_code == 200
    assert inventory(app) == before
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Trade)) == 0


def test_executed_otc_trade_moves_pool_inventory_by_exactly_its_amounts(app: Flask, client: FlaskClient) -> None:
    (base0, quote0), *_ = inventory(app)
    res = client.post("/api/v1/trades", json=SELL_25K)
    assert res.status_code == 201, res.get_json()
    trade = res.get_json()
    # 25,000 SOL splits: the cheap first slices to Jupiter, the rest to the OTC pool (tests/test_split_execution.py)
    assert trade["status"] == "filled" and trade["venue"] in ("otc:sol-usdc", "split")
    (base1, quote1), *_ = inventory(app)
    leg = next(x for x in trade["legs"] if x["venue"] == "otc:sol-usdc")
    with app.app_context():  # what refilled the paid-out side between reserve and settle is counted apart
        refilled = db.session.scalars(db.select(OTCPool.replenished_quote_atoms).order_by(OTCPool.id)).first()
    assert base1 - base0 == int(leg["in_amount_atoms"]) >= 5_000 * 10**9
    assert quote0 - quote1 + refilled == int(leg["out_amount_atoms"])
    assert sum(int(x["in_amount_atoms"]) for x in trade["legs"]) == 25_000 * 10**9
    assert sum(int(x["out_amount_atoms"]) for x in trade["legs"]) == int(trade["out_amount_atoms"])
    assert trade["executed_at"] and trade["settled_at"] >= trade["executed_at"]


def test_trades_are_listed_newest_first_with_a_cursor(client: FlaskClient) -> None:
    ids = [client.post("/api/v1/trades", json=SELL_10).get_json()["id"] for _ in range(3)]
    page1 = client.get("/api/v1/trades?limit=2").get_json()
    assert [t["id"] for t in page1["trades"]] == ids[::-1][:2]
    page2 = client.get(f"/api/v1/trades?limit=2&cursor={page1['next_cursor']}").get_json()
    assert [t["id"] for t in page2["trades"]] == [ids[0]]
    assert page2["next_cursor"] is None
    only_jupiter = client.get("/api/v1/trades?venue=jupiter").get_json()["trades"]
    assert len(only_jupiter) == 3


def test_trade_detail_carries_legs_and_the_quotes_it_was_decided_on(client: FlaskClient) -> None:
    trade_id = client.post("/api/v1/trades", json=SELL_25K).get_json()["id"]
    detail = client.get(f"/api/v1/trades/{trade_id}").get_json()
    assert {o["venue"] for o in detail["options"]} >= {"jupiter", "otc:sol-usdc", "otc:sol-usdt"} - {"otc:sol-usdt"}
    assert client.get("/api/v1/trades/999999").status_code == 404


def test_a_stored_quote_executes_once_at_its_price(client: FlaskClient) -> None:
    quote = client.post("/api/v1/quotes", json=SELL_25K).get_json()
    first = client.post("/api/v1/trades", json={"quote_id": quote["quote_id"]})
    assert first.status_code == 201
    trade, decision = first.get_json(), quote["decision"]
    # firm OTC legs fill at exactly the quoted amounts; a Jupiter leg is re-quoted (the sim price moves each second)
    # and only has to keep the whole within the accepted minimum
    quoted_otc = {leg["venue"]: leg["out_amount_atoms"] for leg in decision["legs"] if leg["venue"] != "jupiter"}
    filled_otc = {leg["venue"]: leg["out_amount_atoms"] for leg in trade["legs"] if leg["venue"] != "jupiter"}
    assert quoted_otc and filled_otc == quoted_otc
    assert int(trade["out_amount_atoms"]) >= int(decision["min_out_amount_atoms"])
    again = client.post("/api/v1/trades", json={"quote_id": quote["quote_id"]})
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "QUOTE_ALREADY_USED"
    assert client.post("/api/v1/trades", json={"quote_id": "q_nope"}).status_code == 404


def test_same_idempotency_key_and_body_returns_the_first_trade(client: FlaskClient) -> None:
    headers = {"Idempotency-Key": "abc-123"}
    first = client.post("/api/v1/trades", json=SELL_10, headers=headers)
    second = client.post("/api/v1/trades", json=SELL_10, headers=headers)
    assert first.status_code == 201 and second.status_code == 200
    assert first.get_json()["id"] == second.get_json()["id"]
    other = client.post("/api/v1/trades", json={**SELL_10, "amount": "11"}, headers=headers)
    assert other.status_code == 409 and other.get_json()["error"]["code"] == "IDEMPOTENCY_CONFLICT"


def test_a_trader_cannot_execute_another_traders_quote(app: Flask) -> None:
    tina, tom = (client_with_token(app, make_token(app, "trader", name)) for name in ("tina", "tom"))
    quote = tina.post("/api/v1/quotes", json=SELL_10).get_json()
    before = inventory(app)
    res = tom.post("/api/v1/trades", json={"quote_id": quote["quote_id"]})
    assert res.status_code == 404 and res.get_json()["error"]["code"] == "NOT_FOUND"  # as if it did not exist
    assert inventory(app) == before
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Trade)) == 0
    mine = tina.post("/api/v1/trades", json={"quote_id": quote["quote_id"]})  # still unused: its owner executes it
    assert mine.status_code == 201 and mine.get_json()["quote_id"] == quote["quote_id"]


def test_a_trader_cannot_execute_another_traders_quote_from_the_quote_page(app: Flask, client: FlaskClient) -> None:
    quote = client_with_token(app, make_token(app, "trader", "tina")).post("/api/v1/quotes", json=SELL_10).get_json()
    res = client.post(f"/quotes/{quote['quote_id']}/execute", data={"token": "t-1"})
    assert res.status_code == 303 and res.headers["Location"].endswith(f"/quotes/{quote['quote_id']}")
    assert "no quote with id" in client.get(res.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Trade)) == 0


def test_an_empty_idempotency_key_is_a_400_naming_the_header(app: Flask, client: FlaskClient) -> None:
    res = client.post("/api/v1/trades", json=SELL_10, headers={"Idempotency-Key": ""})
    assert res.status_code == 400
    error = res.get_json()["error"]
    assert error["code"] == "INVALID_INPUT" and error["field"] == "Idempotency-Key"
    assert "Idempotency-Key" in error["message"]
    too_long = client.post("/api/v1/trades", json=SELL_10, headers={"Idempotency-Key": "k" * 129})
    assert too_long.status_code == 400 and too_long.get_json()["error"]["code"] == "INVALID_IDEMPOTENCY_KEY"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Trade)) == 0


@pytest.mark.parametrize("spelling", [
    {**SELL_10, "slippage_bps": 50},  # the default, spelled out
    {**SELL_10, "swap_mode": "ExactIn", "slippage_bps": "50"},
    {"input": "So11111111111111111111111111111111111111112", "output": "usdc", "amount": "10.000"},
    {"input": "SOL", "output": "USDC", "amount_atoms": "10000000000"},
])
def test_a_replay_spelling_the_same_order_differently_is_the_same_request(client: FlaskClient, spelling: dict) -> None:
    headers = {"Idempotency-Key": "same-order"}
    first = client.post("/api/v1/trades", json=SELL_10, headers=headers)
    again = client.post("/api/v1/trades", json=spelling, headers=headers)
    assert first.status_code == 201 and again.status_code == 200, again.get_json()
    assert again.get_json()["id"] == first.get_json()["id"]
    other = client.post("/api/v1/trades", json={**SELL_10, "slippage_bps": 51}, headers=headers)
    assert other.status_code == 409 and other.get_json()["error"]["code"] == "IDEMPOTENCY_CONFLICT"


@pytest.mark.parametrize("query", ["status=", "status=done", "venue=", "venue=otc:", "venue=binance", "venue=otc:a b"])
def test_an_empty_or_unknown_status_or_venue_filter_is_a_400_naming_it(client: FlaskClient, query: str) -> None:
    res = client.get(f"/api/v1/trades?{query}")
    assert res.status_code == 400
    assert res.get_json()["error"]["field"] == query.split("=")[0]


def test_status_and_venue_filters_of_the_documented_form_are_applied(client: FlaskClient) -> None:
    trade = client.post("/api/v1/trades", json=SELL_10).get_json()
    for query, found in [(f"venue={trade['venue']}", [trade["id"]]), ("venue=otc:no-such-pool", []),
                         ("status=filled", [trade["id"]]), ("status=failed", []), ("pair=", [trade["id"]])]:
        res = client.get(f"/api/v1/trades?{query}")
        assert res.status_code == 200, query
        assert [t["id"] for t in res.get_json()["trades"]] == found, query


def test_pools_are_listed_with_inventory(client: FlaskClient) -> None:
    pools = client.get("/api/v1/pools").get_json()["pools"]
    assert [p["name"] for p in pools] == ["sol-usdc", "sol-usdt"]
    one = client.get(f"/api/v1/pools/{pools[0]['id']}").get_json()
    assert one["base_atoms"] == one["target_base_atoms"]
    assert client.get("/api/v1/pools/999").status_code == 404


def test_analytics_summary_sums_volume_and_savings_in_sql(client: FlaskClient) -> None:
    client.post("/api/v1/trades", json=SELL_25K)
    client.post("/api/v1/trades", json=SELL_10)
    summary = client.get("/api/v1/analytics/summary").get_json()
    assert summary["trades"] == 2
    assert int(summary["savings_usd_atoms"]) > 0
    assert {m["venue"] for m in summary["route_mix"]} == {"jupiter", "split"}  # 25,000 SOL splits OTC + Jupiter
    assert summary["otc_share_pct"] == "50.0"
    assert client.get("/api/v1/analytics/summary?since=2999-01-01T00:00:00Z").get_json()["trades"] == 0
    assert client.get("/api/v1/analytics/summary?since=yesterday").status_code == 400


def test_healthz_reports_db_and_jupiter(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok", "db": "ok", "jupiter": "ok", "reference_price": "ok"}


@pytest.mark.parametrize(("body", "code", "field"), [
    ({**SELL_10, "input": "DOGE"}, "UNKNOWN_TOKEN", "input"),
    ({**SELL_10, "output": "SOL"}, "SAME_TOKEN", "output"),
    ({**SELL_10, "amount": "0"}, "INVALID_AMOUNT", "amount"),
    ({**SELL_10, "amount": "-3"}, "INVALID_AMOUNT", "amount"),
    ({**SELL_10, "amount": "NaN"}, "INVALID_AMOUNT", "amount"),
    ({**SELL_10, "amount": "1.0000000001"}, "INVALID_AMOUNT", "amount"),
    ({**SELL_10, "amount": "99999999999999999999"}, "INVALID_AMOUNT", "amount"),
    ({**SELL_10, "amount": 1.5}, "INVALID_AMOUNT", "amount"),
    ({"input": "SOL", "output": "USDC", "amount_atoms": "9223372036854775808"}, "INVALID_AMOUNT", "amount_atoms"),
    ({**SELL_10, "amount_atoms": "10"}, "INVALID_INPUT", "amount"),
    ({**SELL_10, "slippage_bps": 0}, "INVALID_INPUT", "slippage_bps"),
    ({**SELL_10, "slippage_bps": 5001}, "INVALID_INPUT", "slippage_bps"),
    ({**SELL_10, "slippage_bps": "lots"}, "INVALID_INPUT", "slippage_bps"),
    ({**SELL_10, "swap_mode": "ExactSideways"}, "INVALID_INPUT", "swap_mode"),
    (["not", "an", "object"], "MALFORMED_JSON", None),
])
@pytest.mark.parametrize("path", ["/api/v1/quotes", "/api/v1/trades"])
def test_bad_orders_get_a_400_naming_the_field_and_move_nothing(
    app: Flask, client: FlaskClient, path: str, body: object, code: str, field: str | None
) -> None:
    before = inventory(app)
    res = client.post(path, json=body)
    assert res.status_code == 400, res.get_json()
    error = res.get_json()["error"]
    assert error["code"] == code and error.get("field") == field and error["message"]
    assert inventory(app) == before


@pytest.mark.parametrize("path", ["/api/v1/quotes", "/api/v1/trades"])
def test_malformed_json_is_a_400_not_a_500(client: FlaskClient, path: str) -> None:
    res = client.post(path, data="{not json", content_type="application/json")
    assert res.status_code == 400 and res.get_json()["error"]["code"] == "MALFORMED_JSON"


def test_unknown_api_path_is_a_json_404(client: FlaskClient) -> None:
    res = client.get("/api/v1/nope")
    assert res.status_code == 404 and res.get_json()["error"]["code"] == "NOT_FOUND"
