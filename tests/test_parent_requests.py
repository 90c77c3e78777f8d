"""Parent-order request bodies: every bad schedule field or limit price is a 400 naming its field (never a 500), and
the limit price is stored and compared exactly (a limit at the route's worst accepted fill passes, one atom worse
waits), on SQLite and PostgreSQL."""
from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from core import codec, schedule
from ledger.parent_orders import ParentOrder
from models import db
from services import parent_orders, parent_progress, quoting
from tests.conftest import build_app

ORDER = {"input": "SOL", "output": "USDC", "amount": "100", "strategy": "twap", "duration_s": 60, "slices": 4}
ENDPOINTS = ("/api/v1/orders", "/api/v1/orders/estimate")
BAD_WHOLE = ["ten", "1.5", 1.5, 60.0, "1e3", -1, "-1", 0, "0", True, 10**12, "9" * 5000, "١٢", " ", [], {"n": 1}]


@pytest.fixture
def mapp(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    """An app whose job runner only stores tasks, on SQLite or PostgreSQL (per the test's parameter)."""
    url = f"sqlite:///{tmp_path / 'test.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    app = build_app(url, JOBS_BACKEND="memory")
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def post(client: FlaskClient, path: str, **fields: Any) -> tuple[int, dict[str, Any]]:
    """POST an order body with fields replaced (None: the field left out); (status, JSON)."""
    body = {k: v for k, v in {**ORDER, **fields}.items() if v is not None}
    r = client.post(path, json=body)
    return r.status_code, r.get_json()


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("field", ["duration_s", "slices"])
@pytest.mark.parametrize("value", BAD_WHOLE, ids=repr)
def test_a_schedule_field_that_is_not_a_whole_number_in_range_is_a_400_naming_it(
        client: FlaskClient, path: str, field: str, value: Any) -> None:
    status, body = post(client, path, **{field: value})
    assert status == 400, body
    assert body["error"]["field"] == field and "whole number" in body["error"]["message"]


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("field", ["duration_s", "slices"])
def test_a_missing_schedule_field_is_a_400_saying_it_is_required(client: FlaskClient, path: str, field: str) -> None:
    status, body = post(client, path, **{field: None})
    assert status == 400 and body["error"]["field"] == field and "required" in body["error"]["message"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_more_slices_than_atoms_is_a_400_on_the_estimate_as_on_the_order(client: FlaskClient, path: str) -> None:
    status, body = post(client, path, amount=None, amount_atoms="3", slices=4)
    assert status == 400 and body["error"]["field"] == "slices"


@pytest.mark.parametrize("path", ENDPOINTS)
def test_digit_strings_and_the_range_edges_are_accepted(client: FlaskClient, path: str) -> None:
    assert post(client, path, duration_s="1", slices="1000", amount="1000")[0] in (200, 201)
    assert post(client, path, duration_s=7 * 24 * 3600, slices=1)[0] in (200, 201)


@pytest.mark.parametrize("value", [150.25, 150, "abc", "NaN", "Infinity", "1e3", "-1", "+1", "0", "0.000", " 150",
                                   "1" + "0" * 18, "0." + "0" * 18 + "1", "１５０", "1_000", "2,5000", True],
                         ids=repr)
def test_a_limit_price_that_is_not_a_positive_decimal_string_is_a_400_naming_it(client: FlaskClient,
                                                                                value: Any) -> None:
    status, body = post(client, "/api/v1/orders", limit_price=value)
    assert status == 400, body
    assert body["error"]["field"] == "limit_price"


@pytest.mark.parametrize(("given", "stored"), [("150.25", "150.25"), ("1,500.5", "1500.5"), ("150.2500", "150.25"),
                                               ("0." + "0" * 17 + "1", "0." + "0" * 17 + "1"),
                                               ("123456789012345678.123456789012345678",
                                                "123456789012345678.123456789012345678")])
def test_a_limit_price_is_stored_digit_for_digit(client: FlaskClient, given: str, stored: str) -> None:
    status, body = post(client, "/api/v1/orders", limit_price=given)
    assert status == 201, body
    assert body["limit_price"] == stored
    read = client.get(f"/api/v1/orders/{body['id']}").get_json()
    assert read["limit_price"] == stored


@pytest.mark.parametrize("mapp", ["sqlite", "postgresql"], indirect=True)
def test_a_limit_exactly_at_the_routes_worst_fill_passes_and_one_atom_worse_waits(mapp: Flask) -> None:
    """For several slice sizes (whole SOL counts whose price per SOL is a short decimal): the limit read back from
    the database equals the one given, and the comparison is exact to the atom."""
    client, market = mapp.test_client(), mapp.extensions["market"]
    for sol in (100, 125, 128, 160, 200, 250, 256, 320):
        with mapp.app_context():
            order = quoting.parse_order({**ORDER, "amount": str(sol)})
            row, _ = quoting.quote(market, order)
            decision = codec.decision_from_json(row.payload["decision_exact"])
        got = decision.min_out_amount_atoms
        assert got
        for out_atoms, waits in ((got, False), (got + 1, True)):
            limit = Decimal(out_atoms).scaleb(-6) / sol  # USDC per SOL, exact (sol divides a power of ten)
            status, placed = post(client, "/api/v1/orders", amount=str(sol), slices=1, limit_price=str(limit))
            assert status == 201, placed
            with mapp.app_context():
                parent = db.session.get(ParentOrder, placed["id"])
                assert parent is not None and parent.limit_price == limit
                child = parent_progress.order_of(parent, order.amount_atoms)
                breach = parent_orders.limit_breach(parent, child, decision)
            assert (breach is not None) is waits, (sol, limit, breach)


@pytest.mark.parametrize("mapp", ["sqlite", "postgresql"], indirect=True)
def test_trailing_zeros_of_a_limit_price_are_not_stored_so_the_longest_accepted_text_fits(mapp: Flask) -> None:
    client = mapp.test_client()
    for given, stored in (("1." + "0" * 62, "1"), ("999,999,999,999,999,999." + "0" * 40, "999999999999999999")):
        status, body = post(client, "/api/v1/orders", limit_price=given)
        assert status == 201, body
        assert body["limit_price"] == stored


def test_the_same_limit_price_written_with_trailing_zeros_replays_the_same_order(client: FlaskClient) -> None:
    first = client.post("/api/v1/orders", json={**ORDER, "limit_price": "150.25"}, headers={"Idempotency-Key": "lp-1"})
    again = client.post("/api/v1/orders", json={**ORDER, "limit_price": "150.250"},
                        headers={"Idempotency-Key": "lp-1"})
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]


@pytest.mark.parametrize(("atoms", "price"), [(7_500_000_000_000_000_002, "150.000000000000000001"),
                                              (10**19 - 1, "0.000000000000000001"), (3, "123456789012345678.9")])
def test_the_limit_in_atoms_and_out_atoms_are_exact_beyond_decimal_precision(atoms: int, price: str) -> None:
    exact = Fraction(price) / 1000  # output atoms per input atom, 9 → 6 decimals
    assert schedule.limit_out_atoms(atoms, Decimal(price), 9, 6) == -(-atoms * exact.numerator // exact.denominator)
    assert schedule.limit_in_atoms(atoms, Decimal(price), 9, 6) == atoms * exact.denominator // exact.numerator
