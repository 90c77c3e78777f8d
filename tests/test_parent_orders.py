"""Parent orders stepped in-process (the job runner's step, on a clock the test sets): exact children, one fill per
slice key, cancel, the failed-slice rule, the limit price, a process killed mid-slice, the adaptive wait."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from ledger import parent_orders as store
from ledger.parent_orders import ParentOrder, ParentSlice
from models import Trade, db
from services import execution, parent_orders, quoting
from services.errors import ServiceError
from tests.conftest import build_app

PS = parent_orders.ParentSettings(lease_s=30, retry_s=1, max_attempts=3)


@pytest.fixture
def papp(tmp_path: Path) -> Iterator[Flask]:
    """An app whose job runner only stores tasks (the test steps the parents itself)."""
    app = build_app(f"sqlite:///{tmp_path / 'test.db'}", JOBS_BACKEND="memory", PENDING_TIMEOUT_S=0)
    yield app
    with app.app_context():
        db.engine.dispose()


def place(app: Flask, **fields: Any) -> dict[str, Any]:
    """POST /api/v1/orders as the test admin; the parent's JSON."""
    body = {"input": "SOL", "output": "USDC", "strategy": "twap", "duration_s": 100, "slices": 4, **fields}
    r = app.test_client().post("/api/v1/orders", json=body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def run(app: Flask, parent_id: int, *, until_s: float = 200, tick_s: float = 1.0) -> ParentOrder:
    """Step the parent on a simulated clock from its start, every tick_s, until it finishes (or until_s)."""
    with app.app_context():
        start = db.session.get(ParentOrder, parent_id).start_at
        t = 0.0
        while t <= until_s:
            parent_orders.step(app.extensions["market"], PS, parent_id, start + timedelta(seconds=t))
            row = db.session.get(ParentOrder, parent_id)
            db.session.refresh(row)
            if row.status != store.WORKING:
                return row
            t += tick_s
        return row


def children_of(app: Flask, parent_id: int) -> list[tuple[int, Trade]]:
    """(slice index, trade) of every attempt that made a trade."""
    with app.app_context():
        rows = store.slices_of(parent_id)
        return [(s.index, db.session.get(Trade, s.trade_id)) for s in rows if s.trade_id is not None]


@pytest.mark.parametrize(("body", "slices"), [
    ({"input": "USDC", "output": "SOL", "amount_atoms": "1000000007"}, 7),  # a prime count of atoms
    ({"amount_atoms": str(10 * 10**9 + 1)}, 10),  # one atom more than ten equal slices
    ({"amount": "1000"}, 3),
])
def test_children_sum_exactly_to_the_parent(papp: Flask, body: dict[str, str], slices: int) -> None:
    parent = place(papp, slices=slices, **body)
    done = run(papp, parent["id"])
    assert done.status == "completed", done.note
    kids = children_of(papp, parent["id"])
    assert [t.status for _, t in kids] == ["filled"] * slices
    assert sorted(i for i, _ in kids) == list(range(slices))  # each slice filled once
    assert sum(t.in_amount_atoms for _, t in kids) == int(parent["amount_atoms"])
    api = papp.test_client().get(f"/api/v1/orders/{parent['id']}").get_json()
    assert api["filled_atoms"] == parent["amount_atoms"] and api["remaining_atoms"] == "0"
    assert len(api["children"]) == slices and api["avg_price"] is not None


def test_a_slice_resolved_again_never_fills_twice(papp: Flask) -> None:
    parent = place(papp, amount="400")
    with papp.app_context():
        start = db.session.get(ParentOrder, parent["id"]).start_at
        parent_orders.step(papp.extensions["market"], PS, parent["id"], start)
        # as if the worker died after the trade but before closing its slice: the attempt is 'sent' again
        db.session.execute(update(ParentSlice).values(status=store.SENT, trade_id=None))
        db.session.commit()
        parent_orders.step(papp.extensions["market"], PS, parent["id"], start + timedelta(seconds=1))
        keyed = db.session.scalar(select(func.count()).select_from(Trade)
                                  .where(Trade.idempotency_key.like(f"parent:{parent['id']}:%")))
        sl = store.slices_of(parent["id"])
    assert keyed == 1 and [(s.index, s.status) for s in sl] == [(0, "filled")]


def test_a_process_killed_mid_slice_leaves_the_slice_filled_once_or_retried(papp: Flask,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    parent = place(papp, amount="400")
    real = execution.rfq_execution.last_look  # the first step after the reservation, on every execution path
    calls = {"n": 0}

    def dies_once(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:  # the second slice: reserved, then the process "dies" before any venue answers
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(execution.rfq_execution, "last_look", dies_once)
    with papp.app_context():
        start = db.session.get(ParentOrder, parent["id"]).start_at
        parent_orders.step(papp.extensions["market"], PS, parent["id"], start)
        with pytest.raises(KeyboardInterrupt):
            parent_orders.step(papp.extensions["market"], PS, parent["id"], start + timedelta(seconds=25))
        pending = db.session.scalars(select(Trade).where(Trade.status == "pending")).all()
        assert len(pending) == 1 and pending[0].idempotency_key == store.slice_key(parent["id"], 1, 1)
    done = run(papp, parent["id"])
    kids = children_of(papp, parent["id"])
    filled = [(i, t) for i, t in kids if t.status == "filled"]
    assert done.status == "completed"
    assert sorted(i for i, _ in filled) == [0, 1, 2, 3]  # recovered or retried: never twice
    assert sum(t.in_amount_atoms for _, t in filled) == 400 * 10**9
    assert len({t.idempotency_key for _, t in kids}) == len(kids)


def test_cancel_stops_the_parent_with_the_filled_part_recorded(papp: Flask) -> None:
    parent = place(papp, amount="400")
    client = papp.test_client()
    with papp.app_context():
        start = db.session.get(ParentOrder, parent["id"]).start_at
        parent_orders.step(papp.extensions["market"], PS, parent["id"], start)
    cancelled = client.post(f"/api/v1/orders/{parent['id']}/cancel").get_json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["filled_atoms"] == str(100 * 10**9) and cancelled["remaining_atoms"] == str(300 * 10**9)
    with papp.app_context():
        assert parent_orders.step(papp.extensions["market"], PS, parent["id"], start + timedelta(seconds=80)) is None
    assert len(children_of(papp, parent["id"])) == 1
    again = client.post(f"/api/v1/orders/{parent['id']}/cancel")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "NOT_WORKING"


def test_a_slice_that_fails_is_retried_and_the_parent_goes_on(papp: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    parent = place(papp, amount="400")
    real, calls = quoting.quote, {"n": 0}

    def refuses_once(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise ServiceError(503, "VENUE_UNAVAILABLE", "Jupiter is down")
        return real(*args, **kwargs)

    monkeypatch.setattr(quoting, "quote", refuses_once)
    done = run(papp, parent["id"])
    with papp.app_context():
        timeline = [(s.index, s.attempt, s.status) for s in store.slices_of(parent["id"])]
    assert done.status == "completed"
    assert timeline == [(0, 1, "filled"), (1, 1, "failed"), (1, 2, "filled"), (2, 1, "filled"), (3, 1, "filled")]


def test_a_slice_that_fails_every_attempt_fails_the_parent_keeping_what_it_filled(
        papp: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    parent = place(papp, amount="400")
    real, calls = quoting.quote, {"n": 0}

    def refuses_after_one(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] > 1:
            raise ServiceError(422, "NO_ROUTE", "no venue can fill this order")
        return real(*args, **kwargs)

    monkeypatch.setattr(quoting, "quote", refuses_after_one)
    done = run(papp, parent["id"])
    api = papp.test_client().get(f"/api/v1/orders/{parent['id']}").get_json()
    assert done.status == "failed" and "NO_ROUTE" in done.note
    assert api["filled_atoms"] == str(100 * 10**9)
    assert [t["status"] for t in api["timeline"]] == ["filled", "failed", "failed", "failed"]


def test_a_limit_price_the_market_never_meets_ends_completed_short_with_no_fill(papp: Flask) -> None:
    parent = place(papp, amount="400", limit_price="100000")  # 100,000 USDC per SOL: never
    done = run(papp, parent["id"], until_s=120, tick_s=5)
    api = papp.test_client().get(f"/api/v1/orders/{parent['id']}").get_json()
    assert done.status == "completed" and api["filled_atoms"] == "0" and api["children"] == []
    assert "short" in done.note


def test_every_child_fills_at_or_above_a_limit_price_the_market_meets(papp: Flask) -> None:
    arrival = Decimal(place(papp, amount="1")["arrival_mid"])
    limit = (arrival * Decimal("0.97")).quantize(Decimal("0.0001"))
    parent = place(papp, amount="400", limit_price=str(limit))
    done = run(papp, parent["id"])
    kids = children_of(papp, parent["id"])
    assert done.status == "completed" and len(kids) == 4
    for _, t in kids:
        assert Decimal(t.out_amount_atoms) / 10**6 >= Decimal(t.in_amount_atoms) / 10**9 * limit


def test_adaptive_waits_when_the_model_says_waiting_is_cheaper_and_the_slice_joins_the_next(
        papp: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    parent = place(papp, amount="400", strategy="adaptive")
    verdicts = iter([(Decimal(30), Decimal(10))])
    monkeypatch.setattr(parent_orders, "cost_now_and_after",
                        lambda *a, **k: next(verdicts, (Decimal(10), Decimal(10))))
    done = run(papp, parent["id"])
    sizes = [t.in_amount_atoms for _, t in children_of(papp, parent["id"])]
    assert done.status == "completed" and sizes == [200 * 10**9, 100 * 10**9, 100 * 10**9]


def test_a_retried_placement_replays_and_another_body_under_the_key_conflicts(papp: Flask) -> None:
    client = papp.test_client()
    body = {"input": "SOL", "output": "USDC", "amount": "25,000", "duration_s": 600, "slices": 10}
    first = client.post("/api/v1/orders", json=body, headers={"Idempotency-Key": "k1"})
    again = client.post("/api/v1/orders", json=body, headers={"Idempotency-Key": "k1"})
    other = client.post("/api/v1/orders", json={**body, "slices": 5}, headers={"Idempotency-Key": "k1"})
    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 409)
    assert first.get_json()["id"] == again.get_json()["id"]


@pytest.mark.parametrize(("fields", "field"), [
    ({"slices": 0}, "slices"), ({"slices": 11, "amount_atoms": "10", "amount": None}, "slices"),
    ({"strategy": "vwap"}, "strategy"), ({"duration_s": "ten"}, "duration_s"),
    ({"limit_price": "-1"}, "limit_price"), ({"limit_price": 150}, "limit_price"),
])
def test_an_invalid_parent_order_is_refused_naming_its_field(papp: Flask, fields: dict, field: str) -> None:
    body = {"input": "SOL", "output": "USDC", "amount": "100", "duration_s": 60, "slices": 4, **fields}
    body = {k: v for k, v in body.items() if v is not None}
    r = papp.test_client().post("/api/v1/orders", json=body)
    assert r.status_code == 400 and r.get_json()["error"]["field"] == field


def test_a_parent_order_lists_and_reads_as_the_api_says(papp: Flask) -> None:
    parent = place(papp, amount="100")
    listed = papp.test_client().get("/api/v1/orders").get_json()["orders"]
    assert [o["id"] for o in listed] == [parent["id"]]
    assert set(parent) >= {"id", "status", "amount_atoms", "filled_atoms", "remaining_atoms", "avg_price",
                           "children", "timeline", "arrival_mid", "scheduled_atoms"}
    assert parent["status"] == "working" and parent["children"] == []
    missing = papp.test_client().get("/api/v1/orders/999999")
    assert missing.status_code == 404


def test_the_slice_key_cannot_collide_with_a_users_key() -> None:
    assert store.slice_key(5, 0, 1) == "parent:5:slice:0:try:1"
    assert not (execution.scoped_key("parent:5:slice:0:try:1", 7) or "").startswith("parent:")


