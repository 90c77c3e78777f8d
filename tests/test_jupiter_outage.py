"""Rules for when Jupiter fails: route to OTC with the reason recorded, or 503 when nothing can serve."""
from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

import jupiter_api
from core.wire import RawResponse
from models import OTCPool, db
from tests.conftest import build_app


def failing_client(status: int = 503) -> jupiter_api.JupiterClient:
    """A Jupiter client whose upstream always answers `status` (no waiting between retries)."""
    def transport(params: dict[str, str]) -> RawResponse:
        return RawResponse(status, {}, '{"error": "upstream down"}')

    return jupiter_api.JupiterClient(transport, max_retries=1, sleep=lambda s: None,
                                     breaker=jupiter_api.CircuitBreaker(failure_threshold=3, cooldown_s=60))


@pytest.fixture
def down_app(tmp_path: Path) -> Flask:
    return build_app(f"sqlite:///{tmp_path / 'down.db'}", JUPITER_CLIENT=failing_client())


@pytest.fixture
def down_client(down_app: Flask) -> FlaskClient:
    return down_app.test_client()


def test_block_trade_still_fills_on_otc_when_jupiter_is_down(down_client: FlaskClient) -> None:
    res = down_client.post("/api/v1/trades", json={"input": "SOL", "output": "USDC", "amount": "5000"})
    assert res.status_code == 201, res.get_json()
    trade = res.get_json()
    assert trade["venue"] == "otc:sol-usdc"
    assert trade["savings_atoms"] is None  # no Jupiter baseline to compare against
    jupiter = next(o for o in trade["options"] if o["venue"] == "jupiter")
    assert jupiter["available"] is False and "UPSTREAM_UNAVAILABLE" in jupiter["reason"]
    assert "jupiter" in trade["explanation"]


def test_small_trade_gets_503_when_jupiter_is_down_and_no_pool_can_serve(
    down_app: Flask, down_client: FlaskClient
) -> None:
    with down_app.app_context():
        before = [(p.base_atoms, p.quote_atoms) for p in db.session.scalars(db.select(OTCPool))]
    res = down_client.post("/api/v1/trades", json={"input": "SOL", "output": "USDC", "amount": "10"})
    assert res.status_code == 503
    assert res.get_json()["error"]["code"] == "VENUE_UNAVAILABLE"
    with down_app.app_context():
        assert [(p.base_atoms, p.quote_atoms) for p in db.session.scalars(db.select(OTCPool))] == before


def test_breaker_opens_after_repeated_failures_and_health_says_down(down_client: FlaskClient) -> None:
    for _ in range(3):
        down_client.post("/api/v1/quotes", json={"input": "SOL", "output": "USDC", "amount": "5000"})
    body = down_client.post("/api/v1/quotes", json={"input": "SOL", "output": "USDC", "amount": "5000"}).get_json()
    jupiter = next(o for o in body["options"] if o["venue"] == "jupiter")
    assert "CIRCUIT_OPEN" in jupiter["reason"]
    assert down_client.get("/healthz").get_json()["jupiter"] == "down"


def test_sim_endpoint_speaks_jupiters_wire_format(client: FlaskClient) -> None:
    res = client.get("/sim/jupiter/swap/v1/quote", query_string={
        "inputMint": "So11111111111111111111111111111111111111112",
        "outputMint": "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", "amount": "1000000000000", "slippageBps": "50"})
    assert res.status_code == 200
    quote = jupiter_api.parse_quote(res.get_json())
    assert quote.in_amount_atoms == 1_000_000_000_000
    assert quote.other_amount_threshold_atoms == quote.out_amount_atoms * 9950 // 10_000
    bad = client.get("/sim/jupiter/swap/v1/quote", query_string={"inputMint": "nope", "outputMint": "nope2",
                                                                  "amount": "1"})
    assert bad.status_code == 400 and "errorCode" in bad.get_json()
