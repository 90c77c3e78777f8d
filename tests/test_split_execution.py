"""Rules of executing a split: every leg its own record, all legs in one trade, and all or nothing."""
from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

import jupiter_api
from core.desk_pools import DEFAULT_POOLS
from core.tokens import SOL
from core.wire import RawResponse
from models import OTCPool, Trade, TradeLeg, db
from services import trading
from services.seed import pool_row
from sim.price import SimConfig
from sim.transport import SimTransport
from tests.conftest import build_app

SELL_25K = {"input": "SOL", "output": "USDC", "amount": "25000", "slippage_bps": 50}
SELL_80K = {"input": "SOL", "output": "USDC", "amount": "80000", "slippage_bps": 50}


class Switchable:
    """The simulator's transport, or a 503 from upstream while `down` is set."""

    def __init__(self) -> None:
        self.sim, self.down = SimTransport(SimConfig(), time.time), False

    def __call__(self, params: dict[str, str]) -> RawResponse:
        if self.down:
            return RawResponse(503, {}, '{"error": "upstream down"}')
        return self.sim(params)


@pytest.fixture
def upstream() -> Switchable:
    return Switchable()


@pytest.fixture(params=["sqlite", "postgresql"])
def split_app(request: pytest.FixtureRequest, tmp_path: Path, upstream: Switchable) -> Iterator[Flask]:
    """The app (SQLite, then PostgreSQL) with a second SOL/USDC dealer and a Jupiter that a test can take down."""
    client = jupiter_api.JupiterClient(upstream, max_retries=0, sleep=lambda s: None)
    url = f"sqlite:///{tmp_path / 'split.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    app = build_app(url, JUPITER_CLIENT=client)
    with app.app_context():
        second = replace(DEFAULT_POOLS[0], name="sol-usdc-b", base_spread_bps=Decimal(6),
                         size_spread_bps=Decimal(70), max_trade_base_atoms=40_000 * 10**SOL.decimals)
        db.session.add(pool_row(second))
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def pools(app: Flask) -> dict[str, tuple[int, int, int]]:
    """venue -> (base atoms, quote atoms, quote atoms refilled so far)."""
    with app.app_context():
        return {p.venue: (p.base_atoms, p.quote_atoms, p.replenished_quote_atoms)
                for p in db.session.scalars(db.select(OTCPool).order_by(OTCPool.id))}


def stored_legs(app: Flask, trade_id: int) -> list[TradeLeg]:
    with app.app_context():
        return list(db.session.scalars(db.select(TradeLeg).where(TradeLeg.trade_id == trade_id).order_by(TradeLeg.id)))


def assert_pools_moved_by_their_legs(before: dict, after: dict, legs: list[dict]) -> None:
    """Each pool moved by exactly its leg (base in, quote out net of what refilled meanwhile); others not at all."""
    for venue, (base0, quote0, refill0) in before.items():
        base1, quote1, refill1 = after[venue]
        leg = next((x for x in legs if x["venue"] == venue), None)
        got_in, paid_out = (int(leg["in_amount_atoms"]), int(leg["out_amount_atoms"])) if leg else (0, 0)
        assert base1 - base0 == got_in
        assert quote0 - quote1 + (refill1 - refill0) == paid_out


def test_jupiter_and_otc_split_fills_as_one_trade_with_a_leg_each(split_app: Flask) -> None:
    client: FlaskClient = split_app.test_client()
    before = pools(split_app)
    res = client.post("/api/v1/trades", json=SELL_25K)
    assert res.status_code == 201, res.get_json()
    trade = res.get_json()
    assert trade["status"] == "filled" and trade["venue"] == "split"
    venues = {leg["venue"] for leg in trade["legs"]}
    assert "jupiter" in venues and venues & {"otc:sol-usdc", "otc:sol-usdc-b"}
    assert sum(int(x["in_amount_atoms"]) for x in trade["legs"]) == 25_000 * 10**9
    assert sum(int(x["out_amount_atoms"]) for x in trade["legs"]) == int(trade["out_amount_atoms"])
    rows = stored_legs(split_app, trade["id"])
    assert len(rows) == len(trade["legs"]) >= 2
    assert {r.venue: r.pool_id is None for r in rows}["jupiter"] is True
    assert all(r.pool_id is not None for r in rows if r.venue != "jupiter")
    assert_pools_moved_by_their_legs(before, pools(split_app), trade["legs"])
    assert int(trade["savings_atoms"]) > 0 and "split 25,000 SOL" in trade["explanation"]


def test_two_otc_pools_split_an_order_too_big_for_either_when_jupiter_is_down(
        split_app: Flask, upstream: Switchable) -> None:
    upstream.down = True
    client: FlaskClient = split_app.test_client()
    before = pools(split_app)
    res = client.post("/api/v1/trades", json=SELL_80K)  # above each pool's max (50,000 and 40,000 SOL)
    assert res.status_code == 201, res.get_json()
    trade = res.get_json()
    assert trade["venue"] == "split"
    assert sorted(leg["venue"] for leg in trade["legs"]) == ["otc:sol-usdc", "otc:sol-usdc-b"]
    assert sum(int(x["in_amount_atoms"]) for x in trade["legs"]) == 80_000 * 10**9
    assert trade["savings_atoms"] is None  # no Jupiter-only baseline
    rows = stored_legs(split_app, trade["id"])
    assert sorted(r.venue for r in rows) == ["otc:sol-usdc", "otc:sol-usdc-b"]
    assert len({r.pool_id for r in rows}) == 2
    assert_pools_moved_by_their_legs(before, pools(split_app), trade["legs"])


def test_a_split_quote_with_one_pool_drained_moves_nothing_on_any_pool(
        split_app: Flask, upstream: Switchable) -> None:
    upstream.down = True
    client: FlaskClient = split_app.test_client()
    quote = client.post("/api/v1/quotes", json=SELL_80K).get_json()
    assert quote["decision"]["venue"] == "split"
    with split_app.app_context():  # the second dealer's USDC is gone before the quote is executed
        db.session.execute(db.update(OTCPool).where(OTCPool.name == "sol-usdc-b").values(quote_atoms=0))
        db.session.commit()
    before = pools(split_app)
    res = client.post("/api/v1/trades", json={"quote_id": quote["quote_id"]})
    assert res.status_code == 422, res.get_json()
    after = pools(split_app)
    assert {v: (b, q) for v, (b, q, _) in after.items()} == {v: (b, q) for v, (b, q, _) in before.items()}
    with split_app.app_context():
        trades = list(db.session.scalars(db.select(Trade)))
        assert [t.status for t in trades] == ["rejected"]
        assert db.session.scalar(db.select(db.func.count()).select_from(TradeLeg)) == 0


def test_jupiter_failing_while_a_split_executes_releases_the_otc_leg(
        split_app: Flask, upstream: Switchable, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = trading.plan_fill

    def plan_then_fail(*args: object, **kwargs: object) -> object:
        result = plan(*args, **kwargs)
        upstream.down = True  # decided and planned: the Jupiter leg's swap now fails
        return result

    monkeypatch.setattr(trading, "plan_fill", plan_then_fail)
    client: FlaskClient = split_app.test_client()
    before = pools(split_app)
    res = client.post("/api/v1/trades", json=SELL_25K)
    assert res.status_code == 503, res.get_json()
    after = pools(split_app)  # every reservation given back: only the refill since then differs
    assert {v: (b, q - r) for v, (b, q, r) in after.items()} == {v: (b, q - r) for v, (b, q, r) in before.items()}
    with split_app.app_context():
        trade = db.session.scalars(db.select(Trade)).one()
        assert trade.status == "failed"


def test_the_split_decision_is_stored_with_the_quote_and_executes_at_its_legs(split_app: Flask) -> None:
    client: FlaskClient = split_app.test_client()
    quote = client.post("/api/v1/quotes", json=SELL_25K).get_json()
    decision = quote["decision"]
    assert decision["venue"] == "split" and len(decision["legs"]) >= 2
    assert all("marginal_cost_bps" in leg for leg in decision["legs"])
    assert decision["best_single_venue"] and int(decision["split_gain_atoms"]) > 0
    res = client.post("/api/v1/trades", json={"quote_id": quote["quote_id"]})
    assert res.status_code == 201, res.get_json()
    trade = res.get_json()
    quoted_otc = {leg["venue"]: leg for leg in decision["legs"] if leg["venue"] != "jupiter"}
    for leg in trade["legs"]:
        if leg["venue"] in quoted_otc:  # firm OTC legs fill at the quoted price
            assert leg["out_amount_atoms"] == quoted_otc[leg["venue"]]["out_amount_atoms"]
    assert int(trade["out_amount_atoms"]) >= int(decision["min_out_amount_atoms"])
