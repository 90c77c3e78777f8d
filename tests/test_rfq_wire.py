"""Jupiter Z's maker webhook format on the wire (`responses`): what we send, and every answer we refuse and why."""
from __future__ import annotations

import json
import time
from typing import Any

import pytest
import responses

from core.rfq import MakerQuote, MakerRefusal, Refusal
from core.tokens import SOL, USDC
from core.units import SwapMode
from venues.rfq_client import MakerEndpoint, RfqClient
from venues.rfq_wire import QuoteAsk

BASE = "https://mm.example.com/jupiter/rfq"
EP = MakerEndpoint(1, "rfq:mm", BASE, "k-secret", 300)


def ask(amount: int = 25 * 10**9, mode: SwapMode = SwapMode.EXACT_IN) -> QuoteAsk:
    return QuoteAsk("rfq:mm", "req-1", "quote-1", SOL.mint, USDC.mint, mode, amount)


def answer(**over: Any) -> dict[str, Any]:
    """A well-formed 200 answer to ask()."""
    body = {"requestId": "req-1", "quoteId": "quote-1", "tokenIn": SOL.mint, "amountIn": str(25 * 10**9),
            "tokenOut": USDC.mint, "amountOut": "3740000000", "quoteType": "exactIn", "protocol": "v1",
            "maker": "8iJxVDtFxnWpdCvdrgNDSXigxHo9vLf7KCS1pNKrs5Nh"}
    return {**body, **over}


def one(result: list[MakerQuote | MakerRefusal]) -> MakerQuote | MakerRefusal:
    assert len(result) == 1
    return result[0]


@responses.activate
def test_quote_request_is_jupiter_z_format_with_the_api_key_header() -> None:
    responses.post(f"{BASE}/quote", json=answer())
    got = one(RfqClient().quote_all([(EP, ask())], 500))
    assert isinstance(got, MakerQuote) and got.out_amount_atoms == 3_740_000_000 and got.quote_id == "quote-1"
    sent = responses.calls[0].request
    assert json.loads(sent.body) == {"requestId": "req-1", "quoteId": "quote-1", "tokenIn": SOL.mint,
                                     "amount": "25000000000", "tokenOut": USDC.mint, "quoteType": "exactIn",
                                     "protocol": "v1", "feeBps": 0}
    assert sent.headers["X-API-KEY"] == "k-secret" and sent.headers["x-request-timeout"] == "300"
    assert int(sent.headers["x-request-start"]) > 0


@responses.activate
def test_exact_out_asks_for_the_output_amount_and_checks_it() -> None:
    responses.post(f"{BASE}/quote", json=answer(quoteType="exactOut", amountIn="25000000000", amountOut="3740000000"))
    got = one(RfqClient().quote_all([(EP, ask(3_740_000_000, SwapMode.EXACT_OUT))], 500))
    assert isinstance(got, MakerQuote) and got.in_amount_atoms == 25 * 10**9
    assert json.loads(responses.calls[0].request.body)["quoteType"] == "exactOut"


@pytest.mark.parametrize(("status", "body", "code"), [
    (404, {"message": "pair not supported"}, Refusal.NO_QUOTE),
    (500, {"message": "boom"}, Refusal.ERROR),
    (401, {"message": "bad key"}, Refusal.ERROR),
    (200, "not json", Refusal.MALFORMED),
    (200, [1, 2], Refusal.MALFORMED),
    (200, {k: v for k, v in answer().items() if k != "amountOut"}, Refusal.MALFORMED),
    (200, answer(amountOut=3740000000), Refusal.MALFORMED),  # a JSON number, not a u64 string
    (200, answer(amountOut="-5"), Refusal.MALFORMED),
    (200, answer(tokenOut="Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB"), Refusal.WRONG_MINTS),
    (200, answer(quoteType="exactOut"), Refusal.WRONG_MINTS),
    (200, answer(amountIn="24000000000"), Refusal.WRONG_AMOUNT),
    (200, answer(quoteId="other"), Refusal.WRONG_ID),
    (200, answer(protocol="v2"), Refusal.MALFORMED),
    (200, answer(maker="wintermute"), Refusal.MALFORMED),  # not a pubkey: no fill could name it as fee payer
])
@responses.activate
def test_every_bad_answer_is_refused_with_its_reason(status: int, body: Any, code: Refusal) -> None:
    if isinstance(body, str):
        responses.post(f"{BASE}/quote", body=body, status=status)
    else:
        responses.post(f"{BASE}/quote", json=body, status=status)
    got = one(RfqClient().quote_all([(EP, ask())], 500))
    assert isinstance(got, MakerRefusal) and got.code is code and got.reason


@responses.activate
def test_an_answer_after_the_makers_timeout_is_refused_as_late() -> None:
    def slow(_request: Any) -> tuple[int, dict[str, str], str]:
        time.sleep(0.2)
        return 200, {}, json.dumps(answer())

    responses.add_callback(responses.POST, f"{BASE}/quote", callback=slow)
    quick = MakerEndpoint(1, "rfq:mm", BASE, None, 100)
    started = time.perf_counter()
    got = one(RfqClient().quote_all([(quick, ask())], 500))
    assert isinstance(got, MakerRefusal) and got.code is Refusal.LATE
    assert time.perf_counter() - started < 0.19  # the caller did not wait for it


@responses.activate
def test_unreachable_maker_is_refused_not_raised() -> None:
    responses.post(f"{BASE}/quote", body=ConnectionError("refused"))
    got = one(RfqClient().quote_all([(EP, ask())], 500))
    assert isinstance(got, MakerRefusal) and got.code is Refusal.UNREACHABLE


@pytest.mark.parametrize(("body", "accepted", "reason"), [
    ({"quoteId": "quote-1", "state": "accepted"}, True, None),
    ({"quoteId": "quote-1", "state": "rejected", "rejectionReason": "insufficientBalance"}, False,
     "insufficientBalance"),
    ({"quoteId": "quote-1", "state": {"rejectedWithReason": "botActivityDetected"}}, False, "botActivityDetected"),
    ({"quoteId": "quote-1", "state": "rejected"}, False, "rejected at last look (no reason given)"),
    ({"quoteId": "other", "state": "accepted"}, False, "the maker's swap answer is not for this quote"),
])
@responses.activate
def test_swap_is_last_look_and_only_a_wellformed_accept_fills(body: dict[str, Any], accepted: bool,
                                                               reason: str | None) -> None:
    responses.post(f"{BASE}/swap", json=body)
    verdict = RfqClient().swap(EP, "req-1", "quote-1", "dHg=", 1000)
    assert verdict.accepted is accepted and verdict.reason == reason
    assert json.loads(responses.calls[0].request.body) == {"requestId": "req-1", "quoteId": "quote-1",
                                                           "transaction": "dHg="}


@responses.activate
def test_swap_server_error_is_a_rejection_with_the_makers_message() -> None:
    responses.post(f"{BASE}/swap", json={"message": "offline"}, status=503)
    verdict = RfqClient().swap(EP, "req-1", "quote-1", "dHg=", 1000)
    assert not verdict.accepted and "503" in (verdict.reason or "") and "offline" in (verdict.reason or "")


@responses.activate
def test_tokens_is_a_json_array_of_mints() -> None:
    responses.get(f"{BASE}/tokens", json=[USDC.mint, SOL.mint, SOL.mint])
    assert RfqClient().tokens(EP) == sorted([SOL.mint, USDC.mint])
    responses.replace(responses.GET, f"{BASE}/tokens", json={"tokens": []})
    assert RfqClient().tokens(EP) is None
