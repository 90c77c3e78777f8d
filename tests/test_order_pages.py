"""The parent-order pages (issue 16): the list, one order's page with its live JSON, who sees the cancel button."""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import ROUND_CEILING, Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from models import db
from tests.conftest import build_app, client_with_token, make_token
from web.views.orders import duration_text, progress_pct


@pytest.fixture
def oapp(tmp_path: Path) -> Iterator[Flask]:
    """An app whose job runner only stores tasks: each order is placed and left working (no slice runs)."""
    app = build_app(f"sqlite:///{tmp_path / 'test.db'}", JOBS_BACKEND="memory")
    yield app
    with app.app_context():
        db.engine.dispose()


def place(client: Any, **fields: Any) -> dict[str, Any]:
    """POST /api/v1/orders with the client's credentials; the parent's JSON."""
    body = {"input": "SOL", "output": "USDC", "amount": "300", "strategy": "twap", "duration_s": 600, "slices": 3,
            **fields}
    r = client.post("/api/v1/orders", json=body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def page_data(html: str) -> dict[str, Any]:
    """The order JSON the page embeds for parent_order.js."""
    m = re.search(r'<script type="application/json" id="order-data">(.*?)</script>', html, re.S)
    assert m, "the page embeds no order data"
    return json.loads(m.group(1))


def test_the_order_page_embeds_the_api_json_and_offers_cancel_to_its_trader(app: Flask) -> None:
    trader = client_with_token(app, make_token(app, "trader", "tina"))
    order = place(trader)  # TESTING: the immediate job runner sends the first slice now
    html = trader.get(f"/orders/{order['id']}").get_data(as_text=True)
    data = page_data(html)
    api = trader.get(f"/api/v1/orders/{order['id']}").get_json()
    assert data["id"] == order["id"] and data["status"] == "working"
    assert [s["status"] for s in data["timeline"]] == [s["status"] for s in api["timeline"]] == ["filled"]
    assert data["filled_atoms"] == api["filled_atoms"] == str(100 * 10**9)
    assert f'data-cancel-url="/api/v1/orders/{order["id"]}/cancel"' in html and 'id="cancel-button"' in html
    assert "placed by tina" in html and "Sell" in html


@pytest.mark.parametrize("role", ["viewer", "trader"])
def test_someone_else_sees_the_order_but_no_cancel_and_cannot_cancel(app: Flask, role: str) -> None:
    order = place(client_with_token(app, make_token(app, "trader", "owner")))
    other = client_with_token(app, make_token(app, role, f"other-{role}"))
    res = other.get(f"/orders/{order['id']}")
    assert res.status_code == 200
    html = res.get_data(as_text=True)
    assert "cancel-button" not in html and "data-cancel-url" not in html and "cancel-modal" not in html
    refused = other.post(f"/api/v1/orders/{order['id']}/cancel", json={})
    assert refused.status_code == 403
    assert other.get(f"/api/v1/orders/{order['id']}").get_json()["status"] == "working"


def test_an_admin_may_cancel_a_traders_order_from_its_page(app: Flask) -> None:
    order = place(client_with_token(app, make_token(app, "trader", "owner")))
    admin = app.test_client()
    assert "data-cancel-url" in admin.get(f"/orders/{order['id']}").get_data(as_text=True)
    done = admin.post(f"/api/v1/orders/{order['id']}/cancel", json={}).get_json()
    html = admin.get(f"/orders/{order['id']}").get_data(as_text=True)
    assert done["status"] == page_data(html)["status"] == "cancelled"
    assert 'id="cancel-button"' in html and "btn-sm d-none" in html  # hidden once the order is terminal


def test_the_list_is_newest_first_with_progress_and_a_mine_filter(oapp: Flask) -> None:
    mine = client_with_token(oapp, make_token(oapp, "trader", "me"))
    first = place(mine, amount="10")
    theirs = place(client_with_token(oapp, make_token(oapp, "trader", "them")), amount="20")
    html = mine.get("/orders").get_data(as_text=True)
    ids = [int(i) for i in re.findall(r'<tr data-id="(\d+)"', html)]
    assert ids == [theirs["id"], first["id"]]
    assert html.count('data-field="pct">0.0%') == 2 and ">me<" in html and ">them<" in html
    only = mine.get("/orders?mine=1").get_data(as_text=True)
    assert [int(i) for i in re.findall(r'<tr data-id="(\d+)"', only)] == [first["id"]]


def test_the_list_shows_the_filled_share_of_a_working_order(app: Flask) -> None:
    order = place(app.test_client(), amount="300", slices=3)  # the first of three slices fills at once
    html = app.test_client().get("/orders").get_data(as_text=True)
    assert f'<tr data-id="{order["id"]}" data-status="working">' in html
    assert 'data-field="pct">33.3%' in html and 'data-pct="33.3"' in html


def test_an_empty_list_points_at_the_ticket_and_a_missing_order_is_a_404(oapp: Flask) -> None:
    client = oapp.test_client()
    assert "No parent orders yet" in client.get("/orders").get_data(as_text=True)
    res = client.get("/orders/999")
    assert res.status_code == 404 and "no parent order #999" in res.get_data(as_text=True).lower()


def test_shortfall_usd_is_the_shortfall_bps_of_the_filled_notional_rounded_up(app: Flask) -> None:
    order = place(app.test_client(), amount="3000", slices=3)
    api = app.test_client().get(f"/api/v1/orders/{order['id']}").get_json()
    notional = sum(int(c["notional_usd_atoms"]) for c in api["children"] if c["status"] == "filled")
    expected = (Decimal(notional) * Decimal(api["shortfall_bps"]) / 10_000).to_integral_value(rounding=ROUND_CEILING)
    assert notional > 0 and api["shortfall_usd_atoms"] == str(expected)


def test_a_parent_without_a_fill_has_no_shortfall_in_usd(oapp: Flask) -> None:
    order = place(oapp.test_client())
    assert order["shortfall_bps"] is None and order["shortfall_usd_atoms"] is None


@pytest.mark.parametrize(("filled", "amount", "shown"), [
    (1, 3, "33.3"), (1999, 2000, "99.9"), (2000, 2000, "100.0"), (0, 7, "0.0"), (10**18 - 1, 10**18, "99.9"),
])
def test_progress_is_rounded_down_so_it_never_reads_100_before_it_is(filled: int, amount: int, shown: str) -> None:
    assert progress_pct(filled, amount) == shown


@pytest.mark.parametrize(("seconds", "text"), [(45, "45 s"), (600, "10 min"), (5400, "1 h 30 min"), (61, "1 min 1 s")])
def test_durations_read_in_hours_minutes_and_seconds(seconds: int, text: str) -> None:
    assert duration_text(seconds) == text


def test_placing_with_acknowledge_cost_is_accepted_and_replays_as_the_same_order(oapp: Flask) -> None:
    client = oapp.test_client()
    body = {"input": "SOL", "output": "USDC", "amount": "30", "strategy": "twap", "duration_s": 60, "slices": 3}
    first = client.post("/api/v1/orders", json={**body, "acknowledge_cost": True}, headers={"Idempotency-Key": "k1"})
    again = client.post("/api/v1/orders", json=body, headers={"Idempotency-Key": "k1"})
    assert first.status_code == 201 and again.status_code == 200  # the panel's field never changes the order
    assert again.get_json()["id"] == first.get_json()["id"]


def test_a_viewer_finds_orders_in_the_nav_but_no_ticket_panel(app: Flask) -> None:
    viewer = client_with_token(app, make_token(app, "viewer", "vera"))
    html = viewer.get("/orders").get_data(as_text=True)
    assert 'href="/orders"' in html and 'href="/trade"' not in html  # no "New order" link, no Trade nav entry
    assert viewer.get("/trade").status_code == 403
    trader_html = client_with_token(app, make_token(app, "trader", "tom")).get("/trade").get_data(as_text=True)
    assert 'id="parent-panel"' in trader_html and 'data-estimate-url="/api/v1/orders/estimate"' in trader_html
