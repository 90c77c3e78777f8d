"""Rules of the Jupiter quote client: wire parsing, typed errors, retries, the simulator behind it. No network (the
breaker, rate limiter and call stats: tests/test_jupiter_resilience.py)."""
from __future__ import annotations

import copy
import json
import time
from decimal import Decimal
from typing import Any

import pytest
import requests
import responses
from responses import matchers

from core.tokens import JUP, SOL, USDC, USDT
from jupiter_api import (
    CallEvent,
    HttpTransport,
    InvalidRequestError,
    JupiterClient,
    JupiterError,
    MalformedResponseError,
    NoRouteError,
    QuoteMismatchError,
    RateLimitedError,
    TokenNotTradableError,
    UpstreamUnavailableError,
    make_client,
    parse_error,
    parse_quote,
)
from sim.dex import SimConfig
from sim.transport import SimTransport
from tests.jupiter_support import BASE, NO_ROUTE, NOT_TRADABLE, QUOTE, TWO_HOP, URL, FakeTime, client, sample, sol_usdc

NOW = 1_760_000_000.0


# --- parsing ---------------------------------------------------------------------------------------------------


def test_sample_exact_in_quote_parses_into_typed_fields() -> None:
    q = parse_quote(sample("quote-sol-usdc-exactin.json"))
    assert (q.input_mint, q.output_mint, q.swap_mode, q.slippage_bps) == (SOL.mint, USDC.mint, "ExactIn", 50)
    assert (q.in_amount_atoms, q.out_amount_atoms, q.other_amount_threshold_atoms) == (
        1_000_000_000_000, 149_788_760_500, 149_039_816_697)
    assert q.price_impact_pct == Decimal("0.000412")
    assert (q.context_slot, q.time_taken_s) == (372_914_455, Decimal("0.0123"))
    assert [(s.label, s.in_amount_atoms, s.percent, s.bps) for s in q.route_plan] == [
        ("Whirlpool", 700_000_000_000, 70, 7000), ("Raydium", 300_000_000_000, 30, 3000)]
    assert q.route_plan[0].amm_key == "Czfq3xZZDmsdGdUyrNLtRhGc47cXcZtLG4crryfu44zE"
    assert q.raw == QUOTE


def test_sample_two_hop_quote_parses_with_chained_legs() -> None:
    q = parse_quote(sample("quote-usdt-sol-two-hop.json"))
    first, second = q.route_plan
    assert (first.input_mint, first.output_mint, second.output_mint) == (USDT.mint, USDC.mint, SOL.mint)
    assert first.out_amount_atoms == second.in_amount_atoms == 2_499_010_000_000
    assert q.out_amount_atoms * 9_900 // 10_000 == q.other_amount_threshold_atoms


def test_sample_error_bodies_map_to_typed_errors() -> None:
    no_route = parse_error(400, json.dumps(NO_ROUTE))
    not_tradable = parse_error(400, json.dumps(NOT_TRADABLE))
    assert isinstance(no_route, NoRouteError) and no_route.code == "NO_ROUTE"
    assert no_route.upstream_code == "COULD_NOT_FIND_ANY_ROUTE" and no_route.message == "Could not find any route"
    assert isinstance(not_tradable, TokenNotTradableError) and not_tradable.code == "TOKEN_NOT_TRADABLE"


def test_optional_fields_may_be_missing_and_unknown_fields_are_ignored() -> None:
    body = sample("quote-sol-usdc-exactin.json")
    for key in ("contextSlot", "timeTaken", "platformFee"):
        del body[key]
    del body["routePlan"][0]["bps"]
    body["swapUsdValue"] = "150000"
    q = parse_quote(body)
    assert (q.context_slot, q.time_taken_s, q.route_plan[0].bps) == (None, None, None)


def _set(path: str, value: Any) -> dict:
    """The sample quote with the field at a dotted path replaced (value ... deletes it)."""
    body = copy.deepcopy(QUOTE)
    *parents, last = path.split(".")
    target: Any = body
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return body


@pytest.mark.parametrize(("path", "value"), [
    ("inAmount", ...), ("inAmount", 1000), ("inAmount", "-5"), ("inAmount", "1e3"), ("inAmount", ""),
    ("inAmount", "0"), ("outAmount", str(2**64)), ("outAmount", " 12"), ("otherAmountThreshold", None),
    ("inputMint", ""), ("outputMint", 7), ("swapMode", "Both"), ("slippageBps", "50"), ("slippageBps", True),
    ("slippageBps", 10_001), ("priceImpactPct", 0.1), ("priceImpactPct", "abc"), ("priceImpactPct", "NaN"),
    ("platformFee", "none"), ("routePlan", []), ("routePlan", {}), ("routePlan.0.swapInfo", ...),
    ("routePlan.0.percent", 101), ("routePlan.0.percent", "70"), ("routePlan.0.bps", "7000"),
    ("routePlan.0.swapInfo.ammKey", ...), ("routePlan.0.swapInfo.outAmount", 5), ("contextSlot", "slot"),
    ("timeTaken", "fast"), ("timeTaken", -1), ("inputMint", USDT.mint),
])
def test_missing_or_ill_typed_fields_are_malformed(path: str, value: Any) -> None:
    with pytest.raises(MalformedResponseError):
        parse_quote(_set(path, value))


@pytest.mark.parametrize("body", [None, [], "quote", 42])
def test_a_body_that_is_not_an_object_is_malformed(body: Any) -> None:
    with pytest.raises(MalformedResponseError, match="not a JSON object"):
        parse_quote(body)


@pytest.mark.parametrize(("status", "text", "headers", "kind", "code"), [
    (400, json.dumps({"error": "same", "errorCode": "CIRCULAR_ARBITRAGE_IS_DISABLED"}), None, InvalidRequestError,
     "INVALID_REQUEST"),
    (400, json.dumps({"error": "gone", "errorCode": "NO_ROUTES_FOUND"}), None, NoRouteError, "NO_ROUTE"),
    (400, "<html>bad gateway config</html>", None, InvalidRequestError, "INVALID_REQUEST"),
    (401, json.dumps({"error": "bad key"}), None, JupiterError, "UNAUTHORIZED"),
    (429, "", {"Retry-After": "3"}, RateLimitedError, "RATE_LIMITED"),
    (500, "", None, UpstreamUnavailableError, "UPSTREAM_UNAVAILABLE"),
    (503, "oops", None, UpstreamUnavailableError, "UPSTREAM_UNAVAILABLE"),
    (302, "", None, MalformedResponseError, "MALFORMED_RESPONSE"),
])
def test_error_statuses_map_to_typed_errors(status: int, text: str, headers: dict | None, kind: type,
                                            code: str) -> None:
    err = parse_error(status, text, headers)
    assert type(err) is kind and err.code == code and err.status == status and err.message


@pytest.mark.parametrize(("headers", "seconds"), [({"retry-after": "2.5"}, 2.5), ({}, None),
                                                  ({"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}, None),
                                                  ({"Retry-After": "-1"}, None)])
def test_retry_after_is_read_in_seconds(headers: dict, seconds: float | None) -> None:
    err = parse_error(429, "", headers)
    assert isinstance(err, RateLimitedError) and err.retry_after_s == seconds


# --- HTTP ------------------------------------------------------------------------------------------------------


@responses.activate
def test_query_params_and_api_key_header_are_sent_exactly() -> None:
    responses.get(URL, json=QUOTE, match=[
        matchers.query_param_matcher({"inputMint": SOL.mint, "outputMint": USDC.mint, "amount": "1000000000000",
                                      "slippageBps": "50", "swapMode": "ExactIn", "onlyDirectRoutes": "true",
                                      "maxAccounts": "40", "excludeDexes": "Raydium,Orca"}, strict_match=True),
        matchers.header_matcher({"x-api-key": "secret-key", "Accept": "application/json"}),
    ])
    q = sol_usdc(client(FakeTime(), api_key="secret-key"), only_direct_routes=True, max_accounts=40,
                 exclude_dexes=["Raydium", "Orca"], dexes=None)
    assert q.out_amount_atoms == 149_788_760_500


@responses.activate
def test_no_api_key_header_is_sent_without_a_key() -> None:
    responses.get(URL, json=QUOTE)
    sol_usdc(client(FakeTime()))
    assert "x-api-key" not in responses.calls[0].request.headers


def test_requests_get_connect_and_read_timeouts_on_a_reused_session() -> None:
    class Session:
        def __init__(self) -> None:
            self.calls: list[dict] = []

        def get(self, url: str, **kwargs: Any) -> Any:
            self.calls.append({"url": url, **kwargs})
            resp = requests.Response()
            resp.status_code, resp._content = 200, json.dumps(QUOTE).encode()
            return resp

    session = Session()
    transport = HttpTransport(BASE + "/", timeout_s=2.5, session=session)  # type: ignore[arg-type]
    transport({"a": "1"})
    transport({"a": "2"})
    assert [c["timeout"] for c in session.calls] == [(2.5, 2.5)] * 2 and session.calls[0]["url"] == URL


@responses.activate
def test_400_no_route_is_not_retried() -> None:
    responses.get(URL, json=NO_ROUTE, status=400)
    fake = FakeTime()
    with pytest.raises(NoRouteError):
        sol_usdc(client(fake))
    assert (len(responses.calls), fake.sleeps) == (1, [])


@responses.activate
def test_400_not_tradable_raises_token_not_tradable() -> None:
    responses.get(URL, json=NOT_TRADABLE, status=400)
    with pytest.raises(TokenNotTradableError, match="is not tradable"):
        sol_usdc(client(FakeTime()))


@responses.activate
def test_429_is_retried_honouring_retry_after() -> None:
    responses.get(URL, status=429, headers={"Retry-After": "2"})
    responses.get(URL, json=QUOTE)
    fake, events = FakeTime(), []
    q = sol_usdc(client(fake, on_call=events.append))
    assert q.in_amount_atoms == 10**12 and fake.sleeps == [2.0]
    assert events == [CallEvent(1000.0, 2000, "ok", 1)]


@responses.activate
def test_429_asking_for_longer_than_the_cap_is_raised_at_once() -> None:
    responses.get(URL, status=429, headers={"Retry-After": "60"})
    fake = FakeTime()
    with pytest.raises(RateLimitedError) as caught:
        sol_usdc(client(fake, max_retry_after_s=5.0))
    assert caught.value.retry_after_s == 60 and fake.sleeps == [] and len(responses.calls) == 1


@responses.activate
def test_5xx_is_retried_with_exponential_backoff_then_raises_upstream_unavailable() -> None:
    for status in (500, 502, 503):
        responses.get(URL, status=status)
    fake = FakeTime()
    with pytest.raises(UpstreamUnavailableError) as caught:
        sol_usdc(client(fake, max_retries=2, backoff_s=0.2))
    assert caught.value.status == 503 and fake.sleeps == [0.2, 0.4] and len(responses.calls) == 3


@responses.activate
def test_5xx_then_success_returns_the_quote() -> None:
    responses.get(URL, status=502)
    responses.get(URL, json=TWO_HOP)
    q = client(FakeTime()).quote(USDT.mint, SOL.mint, 2_500_000 * 10**6, 100)
    assert q.out_amount_atoms == 16_574_118_300_211


@pytest.mark.parametrize("exc", [requests.exceptions.ConnectTimeout(), requests.exceptions.ReadTimeout()])
@responses.activate
def test_timeouts_are_retried_then_raise_upstream_unavailable(exc: Exception) -> None:
    for _ in range(3):
        responses.get(URL, body=exc)
    fake = FakeTime()
    with pytest.raises(UpstreamUnavailableError) as caught:
        sol_usdc(client(fake))
    assert caught.value.code == "UPSTREAM_TIMEOUT" and len(responses.calls) == 3 and len(fake.sleeps) == 2


@responses.activate
def test_connection_errors_raise_upstream_unavailable() -> None:
    responses.get(URL, body=requests.exceptions.ConnectionError("refused"))
    with pytest.raises(UpstreamUnavailableError) as caught:
        sol_usdc(client(FakeTime(), max_retries=0))
    assert caught.value.code == "UPSTREAM_UNAVAILABLE"


@pytest.mark.parametrize("body", ["{not json", "NaN", json.dumps({"inAmount": "1"}), ""])
@responses.activate
def test_malformed_bodies_raise_malformed_response_without_retry(body: str) -> None:
    responses.get(URL, body=body, content_type="application/json")
    with pytest.raises(MalformedResponseError):
        sol_usdc(client(FakeTime()))
    assert len(responses.calls) == 1


@pytest.mark.parametrize(("kwargs", "options"), [
    ({"amount_atoms": 0}, {}), ({"amount_atoms": 1.5}, {}), ({"amount_atoms": 2**64}, {}), ({"amount_atoms": True}, {}),
    ({"slippage_bps": 10_001}, {}), ({"swap_mode": "exactin"}, {}), ({"input_mint": ""}, {}),
    ({}, {"only_direct_routes": "yes"}), ({}, {"max_accounts": 0}), ({}, {"dexes": ["a,b"]}), ({}, {"bogus": 1}),
])
@responses.activate
def test_bad_local_input_raises_invalid_request_without_calling(kwargs: dict, options: dict) -> None:
    args = {"input_mint": SOL.mint, "output_mint": USDC.mint, "amount_atoms": 10**9, "slippage_bps": 50} | kwargs
    with pytest.raises(InvalidRequestError):
        client(FakeTime()).quote(**args, **options)
    assert len(responses.calls) == 0


# --- simulator behind the client -------------------------------------------------------------------------------


def sim_client(**config: Any) -> JupiterClient:
    """make_client in sim mode at a fixed time."""
    c = make_client("sim", api_url="", api_key=None, timeout_s=1, rps=0,
                    sim_transport=SimTransport(SimConfig(**config), time.time))
    assert isinstance(c.transport, SimTransport)
    c.transport.clock = lambda: NOW
    return c


def test_sim_quotes_parse_and_obey_the_wire_rules() -> None:
    c = sim_client()
    q = c.quote(SOL.mint, USDC.mint, 25_000 * 10**9, 50)
    assert q.other_amount_threshold_atoms == q.out_amount_atoms * 9_950 // 10_000
    assert sum(s.percent for s in q.route_plan) == 100 and sum(s.bps or 0 for s in q.route_plan) == 10_000
    assert sum(s.in_amount_atoms for s in q.route_plan) == q.in_amount_atoms
    two_hop = c.quote(JUP.mint, SOL.mint, 10**11, 100)
    legs_out = sum(s.out_amount_atoms for s in two_hop.route_plan if s.output_mint == USDC.mint)
    assert legs_out == sum(s.in_amount_atoms for s in two_hop.route_plan if s.input_mint == USDC.mint)
    exact_out = c.quote(USDC.mint, SOL.mint, 10**12, 50, swap_mode="ExactOut")
    assert exact_out.out_amount_atoms == 10**12
    assert exact_out.other_amount_threshold_atoms == -(-exact_out.in_amount_atoms * 10_050 // 10_000)
    assert c.quote(SOL.mint, USDC.mint, 25_000 * 10**9, 50) == q  # same bucket, same seed: same quote
    assert c.stats()["calls"] == 4 and c.stats()["limiter_headroom"] is None


def test_sim_errors_reach_the_caller_as_typed_errors() -> None:
    c = sim_client()
    with pytest.raises(TokenNotTradableError):
        c.quote(SOL.mint, "So11111111111111111111111111111111111111113", 10**9, 50)
    with pytest.raises(NoRouteError):
        c.quote(SOL.mint, USDC.mint, 10**18, 50)
    with pytest.raises(InvalidRequestError):
        c.quote(SOL.mint, SOL.mint, 10**9, 50)
    assert c.stats()["breaker_state"] == "closed"


@responses.activate
def test_live_mode_calls_the_configured_url_with_the_key() -> None:
    responses.get("https://lite-api.jup.ag/swap/v1/quote", json=QUOTE,
                  match=[matchers.header_matcher({"x-api-key": "k"})])
    c = make_client("live", api_url="https://lite-api.jup.ag/swap/v1", api_key="k", timeout_s=3, rps=5,
                    sim_transport=SimTransport(SimConfig(), time.time))
    assert sol_usdc(c).out_amount_atoms == 149_788_760_500
    assert c.limiter is not None and c.limiter.rps == 5


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="JUPITER_MODE"):
        make_client("mock", api_url=BASE, api_key=None, timeout_s=1, rps=1,
                    sim_transport=SimTransport(SimConfig(), time.time))


@responses.activate
def test_a_quote_for_another_request_is_refused_as_a_mismatch() -> None:
    responses.get(URL, json=TWO_HOP)  # 2.5M USDT -> SOL, answered to a 1,000 SOL -> USDC request
    with pytest.raises(QuoteMismatchError, match="for a request of ExactIn 1000000000000"):
        sol_usdc(client(FakeTime()))
