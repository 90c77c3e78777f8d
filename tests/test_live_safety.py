"""Live mode against a stand-in Jupiter: an independent reference price, price bands where money moves, OTC fallback.

The stand-in is the simulator's wire format behind a fault: 10× or 100× the output, a tenth of it, other mints, a 500.
The reference price is the simulated Price API v3 (same seed), reached through the live PriceClient.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import responses
from flask import Flask
from sqlalchemy import select

import jupiter_api
from core.tokens import SOL, USDC, USDT
from core.wire import RawResponse
from models import OTCPool, Trade, db
from sim.price import SimConfig, reference_price
from sim.transport import SimPriceTransport, SimTransport
from tests.conftest import build_app
from venues.jupiter_price import PriceClient, PriceUnavailableError, parse_prices

SELL_25K = {"input": "SOL", "output": "USDC", "amount": "25000"}
SELL_10 = {"input": "SOL", "output": "USDC", "amount": "10"}


class StandIn:
    """The simulated Jupiter with a switchable fault: scale the output, swap the output mint, or answer 500."""

    def __init__(self) -> None:
        self.inner = SimTransport(SimConfig(), time.time)
        self.out_factor = Decimal(1)
        self.other_mint: str | None = None
        self.down = False
        self.calls = 0

    def __call__(self, params: dict[str, str]) -> RawResponse:
        self.calls += 1
        if self.down:
            return RawResponse(500, {}, "upstream error")
        raw = self.inner(params)
        if raw.status != 200:
            return raw
        body = json.loads(raw.text)
        if self.out_factor != 1:
            for key in ("outAmount", "otherAmountThreshold"):
                body[key] = str(int(Decimal(body[key]) * self.out_factor))
        text = json.dumps(body)
        if self.other_mint:  # a consistent answer, for another pair than asked
            text = text.replace(USDC.mint, self.other_mint)
        return RawResponse(200, raw.headers, text)


class Prices:
    """The simulated Price API, switchable off."""

    def __init__(self) -> None:
        self.inner = SimPriceTransport(SimConfig(), time.time)
        self.down = False

    def __call__(self, params: dict[str, str]) -> RawResponse:
        return RawResponse(503, {}, "down") if self.down else self.inner(params)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[Flask, StandIn, Prices]]:
    stand_in, prices = StandIn(), Prices()
    client = jupiter_api.JupiterClient(stand_in, max_retries=0)
    app = build_app(f"sqlite:///{tmp_path / 'live.db'}", JUPITER_MODE="live", JUPITER_CLIENT=client,
                    PRICE_TRANSPORT=prices, PRICE_CACHE_MS=0, PRICE_MAX_AGE_MS=0)
    yield app, stand_in, prices
    with app.app_context():
        db.engine.dispose()


def pool_atoms(app: Flask) -> list[tuple[int, int]]:
    with app.app_context():
        return [(p.base_atoms, p.quote_atoms) for p in db.session.scalars(select(OTCPool).order_by(OTCPool.id))]


def jupiter_option(body: dict) -> dict:
    return next(o for o in body["options"] if o["venue"] == "jupiter")


@pytest.mark.parametrize("factor", ["10", "0.1", "100"])
def test_a_jupiter_price_far_from_the_reference_is_refused_and_otc_fills_at_the_reference(
        live: tuple[Flask, StandIn, Prices], factor: str) -> None:
    app, stand_in, _ = live
    stand_in.out_factor = Decimal(factor)
    quoted = app.test_client().post("/api/v1/quotes", json=SELL_25K)
    assert quoted.status_code == 200
    option = jupiter_option(quoted.get_json())
    assert not option["available"] and option["reason"].startswith("PRICE_OUT_OF_BAND")
    res = app.test_client().post("/api/v1/trades", json=SELL_25K, headers={"Idempotency-Key": f"band-{factor}"})
    assert res.status_code == 201, res.get_json()
    trade = res.get_json()
    assert {leg["venue"] for leg in trade["legs"]} <= {"otc:sol-usdc"}
    mid = reference_price(SOL.mint, USDC.mint, time.time(), SimConfig())
    fair = 25_000 * mid * 10**USDC.decimals
    assert Decimal(trade["out_amount_atoms"]) <= fair  # a dealer never pays above the reference
    assert Decimal(trade["out_amount_atoms"]) >= fair * Decimal("0.99")


def test_a_ten_x_jupiter_price_refused_on_a_small_order_moves_nothing(live: tuple[Flask, StandIn, Prices]) -> None:
    app, stand_in, _ = live
    stand_in.out_factor = Decimal(10)
    before = pool_atoms(app)
    res = app.test_client().post("/api/v1/trades", json=SELL_10, headers={"Idempotency-Key": "small"})
    assert res.status_code in (422, 503) and res.get_json()["error"]["code"] in ("NO_ROUTE", "VENUE_UNAVAILABLE")
    assert "PRICE_OUT_OF_BAND" in res.get_json()["error"]["message"]
    assert pool_atoms(app) == before
    with app.app_context():
        assert db.session.scalar(select(Trade).where(Trade.status == "filled")) is None


def test_a_quote_for_other_mints_is_refused(live: tuple[Flask, StandIn, Prices]) -> None:
    app, stand_in, _ = live
    stand_in.other_mint = USDT.mint
    body = app.test_client().post("/api/v1/quotes", json=SELL_25K).get_json()
    option = jupiter_option(body)
    assert not option["available"] and option["reason"].startswith("QUOTE_MISMATCH")
    assert body["decision"]["venue"] == "otc:sol-usdc"


def test_jupiter_down_leaves_otc_quoting_and_filling_a_25k_order(live: tuple[Flask, StandIn, Prices]) -> None:
    app, stand_in, _ = live
    stand_in.down = True
    quoted = app.test_client().post("/api/v1/quotes", json=SELL_25K)
    assert quoted.status_code == 200 and not jupiter_option(quoted.get_json())["available"]
    res = app.test_client().post("/api/v1/trades", json=SELL_25K, headers={"Idempotency-Key": "down"})
    assert res.status_code == 201 and res.get_json()["venue"] == "otc:sol-usdc"


def test_no_reference_price_is_a_503_with_the_reason_and_nothing_quoted(live: tuple[Flask, StandIn, Prices]) -> None:
    app, stand_in, prices = live
    prices.down = True
    res = app.test_client().post("/api/v1/quotes", json=SELL_25K)
    assert res.status_code == 503
    error = res.get_json()["error"]
    assert error["code"] == "REFERENCE_UNAVAILABLE" and "no reference price" in error["message"]
    assert stand_in.calls == 0  # no venue is asked when nothing could check its answer
    before = pool_atoms(app)
    trade = app.test_client().post("/api/v1/trades", json=SELL_25K, headers={"Idempotency-Key": "noref"})
    assert trade.status_code == 503 and pool_atoms(app) == before


def test_a_jupiter_price_out_of_band_at_execution_fails_the_trade_and_releases_everything(
        live: tuple[Flask, StandIn, Prices]) -> None:
    app, stand_in, _ = live
    quoted = app.test_client().post("/api/v1/quotes", json={**SELL_25K, "amount": "30000"}).get_json()
    assert any(leg["venue"] == "jupiter" for leg in quoted["decision"]["legs"]), quoted["decision"]
    before = pool_atoms(app)
    stand_in.out_factor = Decimal(100)
    res = app.test_client().post("/api/v1/trades", json={"quote_id": quoted["quote_id"]})
    assert res.status_code == 422 and res.get_json()["error"]["code"] == "PRICE_OUT_OF_BAND"
    assert pool_atoms(app) == before


def test_health_and_monitoring_show_the_reference_price(live: tuple[Flask, StandIn, Prices]) -> None:
    app, _, prices = live
    client = app.test_client()
    client.post("/api/v1/quotes", json=SELL_25K)
    with app.app_context():
        status = app.extensions["market"].prices.status()
    assert status["calls"] >= 1 and status["errors"] == 0 and status["last_error"] is None
    prices.down = True
    client.post("/api/v1/quotes", json=SELL_25K)
    with app.app_context():
        status = app.extensions["market"].prices.status()
    assert status["errors"] == 1 and "HTTP 503" in status["last_error"]


# --- the Price API client on the wire ---------------------------------------------------------------------------

PRICE_URL = "https://lite-api.jup.ag/price/v3"
SAMPLE = ('{"So11111111111111111111111111111111111111112": {"createdAt": "2024-06-05T08:55:25.527Z", '
          '"liquidity": 621679197.67, "usdPrice": 147.4789340738, "blockId": 348004023, "decimals": 9, '
          '"priceChange24h": 1.29}, "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v": {"usdPrice": 0.9999, '
          '"blockId": 348004025, "decimals": 6, "priceChange24h": -0.003}}')


def http_prices(clock: list[float], **kwargs: int) -> PriceClient:
    transport = jupiter_api.HttpTransport(PRICE_URL, "key-1", 2, path="")
    return PriceClient(transport, clock=lambda: clock[0], **kwargs)


@responses.activate
def test_the_price_api_is_read_exactly_as_decimals_with_the_key_and_the_ids() -> None:
    responses.get(PRICE_URL, body=SAMPLE)
    found = http_prices([100.0]).usd_prices([SOL.mint, USDC.mint])
    assert found[SOL.mint].usd_price == Decimal("147.4789340738") and found[SOL.mint].block_id == 348004023
    assert found[USDC.mint].usd_price == Decimal("0.9999")
    sent = responses.calls[0].request
    assert sent.headers["x-api-key"] == "key-1"
    assert sorted(sent.params["ids"].split(",")) == sorted([SOL.mint, USDC.mint])


@responses.activate
def test_a_cached_price_serves_until_its_cache_time_then_stale_until_its_max_age() -> None:
    clock = [100.0]
    client = http_prices(clock, cache_ms=2_000, max_age_ms=10_000)
    responses.get(PRICE_URL, body=SAMPLE)
    client.usd_prices([SOL.mint])
    clock[0] = 101.0
    client.usd_prices([SOL.mint])
    assert len(responses.calls) == 1  # within PRICE_CACHE_MS: no call
    responses.replace(responses.GET, PRICE_URL, status=500)
    clock[0] = 105.0
    assert client.usd_prices([SOL.mint])[SOL.mint].usd_price == Decimal("147.4789340738")  # stale but young
    clock[0] = 111.0
    with pytest.raises(PriceUnavailableError, match="no reference price"):
        client.usd_prices([SOL.mint])


@responses.activate
def test_a_token_the_price_api_leaves_out_has_no_reference_price() -> None:
    responses.get(PRICE_URL, body=SAMPLE)
    with pytest.raises(PriceUnavailableError, match=USDT.mint):
        http_prices([0.0]).usd_prices([SOL.mint, USDT.mint])


@pytest.mark.parametrize("body", ["not json", "[]", f'{{"{SOL.mint}": {{"usdPrice": "1"}}}}',
                                  f'{{"{SOL.mint}": {{"usdPrice": -1}}}}', f'{{"{SOL.mint}": {{"usdPrice": NaN}}}}'])
def test_a_malformed_price_answer_is_no_price(body: str) -> None:
    with pytest.raises(PriceUnavailableError):
        parse_prices(body, [SOL.mint], 0.0)


def test_the_simulator_serves_price_api_v3_at_its_url(client) -> None:  # type: ignore[no-untyped-def]
    res = client.get(f"/sim/jupiter/price/v3?ids={SOL.mint},{USDC.mint}")
    assert res.status_code == 200
    found = parse_prices(res.get_data(as_text=True), [SOL.mint, USDC.mint], 0.0)
    assert found[USDC.mint].usd_price == 1 and found[SOL.mint].usd_price > 0
    assert client.get("/sim/jupiter/price/v3").status_code == 400
