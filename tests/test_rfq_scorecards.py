"""Maker scorecards join the TCA markouts of the trades each maker filled, per period (issue 15)."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from ledger.maker_tables import Maker
from ledger.tca_store import TradeTca
from models import db, utcnow
from services import tca
from tests.conftest import build_app, seed_instant_makers

ORDER = {"input": "SOL", "output": "USDC", "amount": "25000"}


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """Two simulated makers, no latency; alpha prices 40 bps better than its engine, so it wins whole orders."""
    app = build_app(f"sqlite:///{tmp_path / 'cards.db'}")
    seed_instant_makers(app, {"alpha": 40})
    yield app
    with app.app_context():
        db.engine.dispose()


def maker_id(app: Flask, name: str) -> int:
    with app.app_context():
        found = db.session.scalar(select(Maker.id).where(Maker.name == name))
        assert found is not None
        return found


def test_a_makers_stats_average_the_markouts_of_the_trades_it_filled(app: Flask, client: FlaskClient) -> None:
    ids = []
    for _ in range(2):
        res = client.post("/api/v1/trades", json=ORDER)
        assert res.status_code == 201 and res.get_json()["venue"] == "rfq:alpha", res.get_json()
        ids.append(res.get_json()["id"])
    alpha, beta = maker_id(app, "alpha"), maker_id(app, "beta")
    before = client.get(f"/api/v1/makers/{alpha}").get_json()["stats"]["markouts"]
    assert before["trades"] == 2 and before["300s_bps"] is None and before["300s_trades"] == 0
    with app.app_context():
        assert tca.markouts(app.extensions["market"], utcnow() + timedelta(seconds=400)) == 2
        rows = [db.session.get(TradeTca, i) for i in ids]
        expected = {h: sum(Decimal(getattr(r, f"markout_{h}s_bps")) for r in rows if r) / 2 for h in (10, 300)}
    stats = client.get(f"/api/v1/makers/{alpha}?period=1h").get_json()["stats"]["markouts"]
    assert stats["300s_trades"] == 2
    for h, value in expected.items():
        assert Decimal(stats[f"{h}s_bps"]) == value.quantize(Decimal("0.01"))
    assert client.get(f"/api/v1/makers/{beta}").get_json()["stats"]["markouts"]["trades"] == 0  # never filled
    page = client.get("/admin/makers?period=24h").get_data(as_text=True)
    assert 'data-markout-trades="2"' in page and f"300s {stats['300s_bps']} bps" in page
