"""Rules for odd input found by review: every one is a clear 4xx or an ignored filter, never a 500."""
from __future__ import annotations

import pytest
from flask.testing import FlaskClient


@pytest.mark.parametrize(("body", "field"), [
    ({"input": "SOL", "output": "USDC", "amount": "10", "slippage_bps": "²"}, "slippage_bps"),
    ({"input": "USDC", "output": "SOL", "amount": "12345678901234567890123.1234567"}, "amount"),
    ({"input": "USDC", "output": "SOL", "amount": "1" * 40}, "amount"),
    ({"input": "SOL", "output": "USDC", "amount_atoms": "²"}, "amount_atoms"),
    ({"input": "SOL", "output": "USDC", "amount_atoms": "１２"}, "amount_atoms"),  # full-width digits
])
def test_unicode_digits_and_huge_amounts_are_a_400_naming_the_field(
    client: FlaskClient, body: dict, field: str
) -> None:
    res = client.post("/api/v1/quotes", json=body)
    assert res.status_code == 400 and res.get_json()["error"]["field"] == field


@pytest.mark.parametrize("amount", [
    "１２３", "٢٥٠٠٠", "१२३", "1_000", "+25000", " 25000", "2,5000", ",100", 25000, 1.5,
])
def test_amounts_must_be_ascii_decimal_strings_or_a_400_naming_the_field(client: FlaskClient, amount: object) -> None:
    for path in ("/api/v1/quotes", "/api/v1/trades"):
        res = client.post(path, json={"input": "SOL", "output": "USDC", "amount": amount})
        assert res.status_code == 400, (path, amount)
        error = res.get_json()["error"]
        assert error["code"] == "INVALID_AMOUNT" and error["field"] == "amount"
        assert error["message"].startswith("amount ")
    assert client.get("/api/v1/trades").get_json()["trades"] == []  # nothing traded, nothing recorded


@pytest.mark.parametrize("amount_atoms", [25_000_000_000, " 25000000000", "25,000,000,000"])
def test_amount_atoms_must_be_a_string_of_ascii_digits(client: FlaskClient, amount_atoms: object) -> None:
    res = client.post("/api/v1/quotes", json={"input": "SOL", "output": "USDC", "amount_atoms": amount_atoms})
    assert res.status_code == 400 and res.get_json()["error"]["field"] == "amount_atoms"


@pytest.mark.parametrize(("amount", "atoms"), [("25,000", "25000000000000"), ("1,234.5", "1234500000000")])
def test_thousands_commas_are_accepted_by_the_api(client: FlaskClient, amount: str, atoms: str) -> None:
    res = client.post("/api/v1/quotes", json={"input": "SOL", "output": "USDC", "amount": amount})
    assert res.status_code == 200, res.get_json()
    assert res.get_json()["order"]["in_amount_atoms"] == atoms


@pytest.mark.parametrize("value", ["１２", "1e1", " 5", "5_0"])
def test_pool_decimal_settings_use_the_same_parser_as_amounts(client: FlaskClient, value: str) -> None:
    res = client.patch("/api/v1/pools/1", json={"base_spread_bps": value})
    assert res.status_code == 400 and res.get_json()["error"]["field"] == "base_spread_bps"


DEEP_JSON = '{"amount":' + "[" * 1000 + "]" * 1000 + "}"  # 4 KB, well under the body limit


@pytest.mark.parametrize(("method", "path"), [
    ("post", "/api/v1/quotes"), ("post", "/api/v1/trades"), ("patch", "/api/v1/pools/1"),
])
def test_deeply_nested_json_is_a_400_malformed_json_not_a_500(client: FlaskClient, method: str, path: str) -> None:
    res = getattr(client, method)(path, data=DEEP_JSON, content_type="application/json")
    assert res.status_code == 400
    error = res.get_json()["error"]
    assert error["code"] == "MALFORMED_JSON" and "nested deeper than" in error["message"]


@pytest.mark.parametrize("body", [
    '{"input": "SOL", "output": "USDC", "amount": "10", "x": ' + "[" * 33 + "]" * 33 + "}",
    '{"input": "SOL", "output": "USDC", "amount": ' + "[" * 20000 + "]" * 20000 + "}",  # far past any recursion limit
])
def test_json_nested_deeper_than_32_levels_is_refused_whatever_the_recursion_limit(client: FlaskClient,
                                                                                   body: str) -> None:
    res = client.post("/api/v1/quotes", data=body, content_type="application/json")
    assert res.status_code == 400 and res.get_json()["error"]["code"] == "MALFORMED_JSON"


def test_brackets_inside_strings_do_not_count_as_nesting(client: FlaskClient) -> None:
    body = '{"input": "SOL", "output": "USDC", "amount": "10", "note": "' + "[{" * 100 + '\\"]"}'
    res = client.post("/api/v1/quotes", data=body, content_type="application/json")
    assert res.status_code == 200, res.get_json()  # a string of 200 brackets is not nesting (extra fields are ignored)


@pytest.mark.parametrize("value", ["1e50", 10**40])
def test_pool_changes_far_beyond_the_column_are_refused(client: FlaskClient, value: object) -> None:
    pool_id = client.get("/api/v1/pools").get_json()["pools"][0]["id"]
    res = client.patch(f"/api/v1/pools/{pool_id}", json={"base_spread_bps": value})
    assert res.status_code == 400 and res.get_json()["error"]["field"] == "base_spread_bps"


@pytest.mark.parametrize("since", ["9999-12-31T23:59:59Z", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+01:00"])
def test_analytics_since_outside_1970_to_9998_is_a_400(client: FlaskClient, since: str) -> None:
    res = client.get("/api/v1/analytics/summary", query_string={"since": since})
    assert res.status_code == 400 and res.get_json()["error"]["field"] == "since"


@pytest.mark.parametrize("url", [
    "/trades?to=9999-12-31", "/trades?from=9999-12-31", "/analytics?to=0001-01-01", "/analytics?from=0001-01-01",
    "/analytics?to=9999-12-31", "/trades?sort=size&cursor=99999999999999999999999~1",
    "/trades?cursor=0001-01-01T00:00:00%2B01:00~1", "/trades?cursor=2026-01-01T00:00:00%2B00:00~99999999999999999999",
])
def test_out_of_range_dates_and_cursors_on_pages_never_500(client: FlaskClient, url: str) -> None:
    assert client.get(url).status_code in (200, 400)


def test_a_route_dearer_than_the_desks_cost_limit_is_refused_and_moves_nothing(client: FlaskClient) -> None:
    pools_before = client.get("/api/v1/pools").get_json()
    res = client.post("/api/v1/trades", json={"input": "SOL", "output": "USDC", "amount": "900000"})
    assert res.status_code == 422, res.get_json()
    assert res.get_json()["error"]["code"] == "COST_LIMIT"
    assert "MAX_COST_BPS" in res.get_json()["error"]["message"]
    assert client.get("/api/v1/pools").get_json() == pools_before


def test_a_refused_trade_keeps_the_order_and_the_venues_it_was_refused_on(client: FlaskClient) -> None:
    error = client.post("/api/v1/trades", json={"input": "SOL", "output": "USDC", "amount": "900000"}).get_json()
    trade = client.get(f"/api/v1/trades/{error['error']['trade_id']}").get_json()
    assert trade["status"] == "rejected" and trade["error_code"] == "COST_LIMIT"
    assert trade["in_amount_atoms"] == str(900_000 * 10**9)
    assert {o["venue"] for o in trade["options"]} >= {"jupiter", "otc:sol-usdc"}
    page = client.get(f"/trades/{trade['id']}").get_data(as_text=True)
    assert "Asked to sell" in page and "900,000" in page and "not filled" in page
