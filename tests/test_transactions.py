"""No transaction stays open while a venue is asked for a price, and only a unique key means "duplicate"."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.exc import IntegrityError

import jupiter_api
import trade_logger
from models import Trade, db, utcnow
from tests.conftest import build_app
from tests.integrity_support import ScriptedJupiter

SELL_25K = {"input": "SOL", "output": "USDC", "amount": "25000"}


class WatchingJupiter(ScriptedJupiter):
    """The simulated Jupiter that notes, at every call, whether the caller's session holds a transaction open."""

    def __init__(self) -> None:
        super().__init__()
        self.open_during_call: list[bool] = []

    def quote(self, *args: Any, **kwargs: Any) -> jupiter_api.JupiterQuote:
        self.open_during_call.append(db.session().in_transaction())
        return super().quote(*args, **kwargs)


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[tuple[Flask, WatchingJupiter]]:
    jupiter = WatchingJupiter()
    app = build_app(f"sqlite:///{tmp_path / 't.db'}", JUPITER_CLIENT=jupiter)
    yield app, jupiter
    with app.app_context():
        db.engine.dispose()


def test_no_transaction_is_open_while_jupiter_is_asked_for_a_quote(watched: tuple[Flask, WatchingJupiter]) -> None:
    app, jupiter = watched
    client = app.test_client()
    assert client.post("/api/v1/quotes", json=SELL_25K).status_code == 200
    assert client.post("/api/v1/trades", json=SELL_25K, headers={"Idempotency-Key": "tx-1"}).status_code == 201
    quoted = client.post("/api/v1/quotes", json={**SELL_25K, "amount": "10"}).get_json()
    assert client.post("/api/v1/trades", json={"quote_id": quoted["quote_id"]}).status_code == 201
    assert len(jupiter.open_during_call) >= 4
    assert not any(jupiter.open_during_call), jupiter.open_during_call


def test_a_not_null_violation_is_a_bug_not_a_duplicate_trade(app: Flask) -> None:
    with app.app_context():
        def insert_orphan() -> None:
            trade = Trade(status="rejected", pair=None, input_mint="x", output_mint="y", input_symbol="SOL",
                          output_symbol="USDC", swap_mode="ExactIn", slippage_bps=50, venue="none",
                          in_amount_atoms=1, out_amount_atoms=0, explanation="", created_at=utcnow(), options=[],
                          )  # pair is NOT NULL
            db.session.add(trade)
            db.session.flush()

        with pytest.raises(IntegrityError):
            trade_logger._in_transaction(insert_orphan)


def test_a_unique_key_violation_is_a_duplicate_trade(app: Flask) -> None:
    client = app.test_client()
    first = client.post("/api/v1/trades", json={**SELL_25K, "amount": "1"}, headers={"Idempotency-Key": "dup"})
    with app.app_context():
        key = db.session.get(Trade, first.get_json()["id"]).idempotency_key

        def insert_again() -> None:
            db.session.add(Trade(status="rejected", pair="SOL/USDC", input_mint="x", output_mint="y",
                                 input_symbol="SOL", output_symbol="USDC", swap_mode="ExactIn", slippage_bps=50,
                                 venue="none", in_amount_atoms=1, out_amount_atoms=0, explanation="",
                                 created_at=utcnow(), options=[], idempotency_key=key))
            db.session.flush()

        with pytest.raises(trade_logger.DuplicateTrade):
            trade_logger._in_transaction(insert_again)
