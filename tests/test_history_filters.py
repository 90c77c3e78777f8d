"""The blotter's filters (my trades, a trader, search by trade or quote id), its count, previous-page link, cost sort,
the CSV's trader / arrival mid / leg prices, and the same filters on GET /api/v1/trades."""
from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient

from models import Trade, db
from tests.conftest import client_with_token, make_token
from web.views import pages
from web.views import web as web_views


def _trade(client: FlaskClient, amount: str = "25000") -> dict:
    """Execute a SOL → USDC order through the API; the trade JSON."""
    response = client.post("/api/v1/trades", json={"input": "SOL", "output": "USDC", "amount": amount})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.fixture
def desk(app: Flask, client: FlaskClient) -> dict[str, list[int]]:
    """Trades of the test admin (2) and of the trader tina (1): ids by username."""
    tina = client_with_token(app, make_token(app, "trader", "tina"))
    return {"test-admin": [_trade(client)["id"], _trade(client, "3")["id"]], "tina": [_trade(tina, "7")["id"]]}


def _row_ids(body: str) -> list[int]:
    """Trade ids of the history table's rows, in order."""
    return [int(i) for i in re.findall(r'<tr data-id="(\d+)"', body)]


def test_history_shows_the_trader_the_count_and_filters_to_my_trades(client: FlaskClient,
                                                                     desk: dict[str, list[int]]) -> None:
    body = client.get("/trades").get_data(as_text=True)
    assert _row_ids(body) == sorted(desk["test-admin"] + desk["tina"], reverse=True)
    assert 'data-label="Trader"' in body and ">tina</a>" in body and ">test-admin</a>" in body
    assert "3</span> trades match." in body
    mine = client.get("/trades?mine=1").get_data(as_text=True)
    assert _row_ids(mine) == sorted(desk["test-admin"], reverse=True)
    assert "2</span> trades match these filters." in mine and 'id="f-mine" name="mine" value="1" checked' in mine
    theirs = client.get("/trades?trader=tina").get_data(as_text=True)
    assert _row_ids(theirs) == desk["tina"] and 'id="trader-chip"' in theirs
    assert "1</span> trade matches these filters." in theirs
    assert "No trades match" in client.get("/trades?trader=nobody").get_data(as_text=True)


def test_history_finds_a_trade_by_its_id_or_its_quote_id(app: Flask, client: FlaskClient) -> None:
    quote = client.post("/api/v1/quotes", json={"input": "SOL", "output": "USDC", "amount": "100"}).get_json()
    by_quote = client.post("/api/v1/trades", json={"quote_id": quote["quote_id"]}).get_json()
    other = _trade(client, "5")
    assert _row_ids(client.get(f"/trades?q={quote['quote_id']}").get_data(as_text=True)) == [by_quote["id"]]
    for text in (str(other["id"]), f"%23{other['id']}", f"+{other['id']}+"):  # '#12' and padded work too
        assert _row_ids(client.get(f"/trades?q={text}").get_data(as_text=True)) == [other["id"]], text
    body = client.get("/trades?q=q_nothing_like_it").get_data(as_text=True)
    assert "No trades match" in body and 'value="q_nothing_like_it"' in body


def test_history_sorts_by_cost_and_links_back_to_the_previous_page(app: Flask, client: FlaskClient) -> None:
    for amount in ("1", "2", "3"):
        _trade(client, amount)
    with app.app_context():
        costs = {t.id: t.cost_bps for t in db.session.query(Trade)}
    body = client.get("/trades?sort=cost").get_data(as_text=True)
    assert _row_ids(body) == sorted(costs, key=lambda i: (costs[i], i), reverse=True)
    assert 'aria-sort="descending"' in body and 'data-sort="cost"' in body
    saved = web_views.PAGE_SIZE
    web_views.PAGE_SIZE = 1
    try:
        first = client.get("/trades").get_data(as_text=True)
        assert 'id="prev-page"' not in first and 'id="next-page"' in first
        second_url = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
        second = client.get(second_url).get_data(as_text=True)
        prev_url = re.search(r'href="([^"]+)" rel="prev"', second).group(1).replace("&amp;", "&")
        assert "before=" in prev_url and _row_ids(client.get(prev_url).get_data(as_text=True)) == _row_ids(first)
        assert 'id="first-page"' in second
    finally:
        web_views.PAGE_SIZE = saved


def test_csv_export_has_trader_arrival_mid_and_leg_prices(app: Flask, client: FlaskClient,
                                                          desk: dict[str, list[int]]) -> None:
    rows = {int(r["id"]): r for r in csv.DictReader(io.StringIO(client.get("/trades.csv").get_data(as_text=True)))}
    assert {rows[i]["trader"] for i in desk["tina"]} == {"tina"}
    assert {rows[i]["trader"] for i in desk["test-admin"]} == {"test-admin"}
    with app.app_context():
        for trade_id, row in rows.items():
            trade = db.session.get(Trade, trade_id)
            assert trade.arrival_mid is not None and Decimal(row["arrival_mid"]) == trade.arrival_mid
            assert Decimal(50) < trade.arrival_mid < Decimal(500)  # USDC per SOL (the simulator walks near 150)
            legs = row["leg_prices"].split(" + ")
            assert len(legs) == len(trade.legs) >= 1
            for text, leg in zip(legs, trade.legs, strict=True):
                venue, _, price = text.rpartition(":")
                assert venue == leg.venue
                paid = Decimal(leg.out_amount_atoms).scaleb(-6) / Decimal(leg.in_amount_atoms).scaleb(-9)
                assert abs(Decimal(price) - paid) < Decimal("1e-12")
    only_tina = list(csv.DictReader(io.StringIO(client.get("/trades.csv?trader=tina").get_data(as_text=True))))
    assert [int(r["id"]) for r in only_tina] == desk["tina"]


def test_arrival_mid_is_the_mid_the_quote_was_priced_against(client: FlaskClient, app: Flask) -> None:
    quote = client.post("/api/v1/quotes", json={"input": "SOL", "output": "USDC", "amount": "10"}).get_json()
    trade = client.post("/api/v1/trades", json={"quote_id": quote["quote_id"]}).get_json()
    with app.app_context():
        mid = db.session.get(Trade, trade["id"]).arrival_mid
    assert mid.quantize(Decimal("0.000000001")) == Decimal(quote["mid_price"])


def test_api_trade_list_takes_mine_and_q(app: Flask, client: FlaskClient, desk: dict[str, list[int]]) -> None:
    def ids(query: str) -> list[int]:
        response = client.get(f"/api/v1/trades?{query}")
        assert response.status_code == 200, response.get_json()
        return [t["id"] for t in response.get_json()["trades"]]

    assert ids("mine=true") == sorted(desk["test-admin"], reverse=True)
    assert ids("mine=false") == sorted(desk["test-admin"] + desk["tina"], reverse=True)
    assert ids("trader=tina") == desk["tina"]
    assert ids(f"q={desk['tina'][0]}") == desk["tina"]
    assert ids(f"q={desk['tina'][0]}&mine=true") == []
    for query, field in (("mine=yes", "mine"), ("q=" + "x" * 65, "q")):
        response = client.get(f"/api/v1/trades?{query}")
        assert response.status_code == 400 and response.get_json()["error"]["field"] == field


def test_the_count_says_plus_past_its_cap() -> None:
    assert [pages.count_text(n, 100_000) for n in (0, 1, 1234, 100_000, 100_001)] == [
        "0", "1", "1,234", "100,000", "100,000+"]
