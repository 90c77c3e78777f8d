"""Live wire shapes of POST /swap/v1/swap and Solana JSON-RPC, answered by `responses` (no network)."""
from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import requests
import responses

from services import onchain
from venues.jupiter_swap import SwapClient
from venues.jupiter_wire import InvalidRequestError, MalformedResponseError, UpstreamUnavailableError
from venues.solana_rpc import HttpJsonTransport, RpcUnavailableError, SolanaRpc, SolanaRpcError, wallet_deltas

RPC_URL = "https://rpc.example.com"
SWAP_URL = "https://lite-api.jup.ag/swap/v1/swap"
WALLET = "5ur33VV8G3PKCrh4ygrQXvqoBCGX3Sys7uAFM644sDp"
USDC, SOL = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", "So11111111111111111111111111111111111111112"
SIG = "4D5bpyERjFK76yyrFEV9hjikhcjT5oDXXpyfeWFBPKRkAdYBsWWh1DiTJPpHAnRarByWpYJgfHu6wrD8KSJqk3vn"
TX = base64.b64encode(b"\x01" + b"\0" * 64 + b"\x80message").decode()


def node() -> SolanaRpc:
    return SolanaRpc(HttpJsonTransport(RPC_URL, 2))


def answer(result: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "result": result, "id": 1}


def sent(call: Any) -> dict[str, Any]:
    return json.loads(call.request.body)


def to(url: str) -> Any:
    """The first recorded call to url (a background thread of another test may record a call to elsewhere)."""
    return next(c for c in responses.calls if c.request.url.rstrip("/") == url.rstrip("/"))


@responses.activate
def test_swap_posts_the_quote_and_the_wallet_and_returns_the_transaction() -> None:
    responses.post(SWAP_URL, json={"swapTransaction": TX, "lastValidBlockHeight": 279632475,
                                   "prioritizationFeeLamports": 9999, "computeUnitLimit": 388876})
    swap = SwapClient(HttpJsonTransport(SWAP_URL, 2)).swap({"inputMint": SOL}, WALLET)
    assert (swap.transaction_base64, swap.last_valid_block_height) == (TX, 279632475)
    body = sent(to(SWAP_URL))
    assert body["quoteResponse"] == {"inputMint": SOL} and body["userPublicKey"] == WALLET
    assert body["wrapAndUnwrapSol"] is False


@responses.activate
@pytest.mark.parametrize(("status", "body", "error"), [
    (400, {"error": "Invalid quoteResponse", "errorCode": "INVALID_REQUEST"}, InvalidRequestError),
    (503, {"error": "down"}, UpstreamUnavailableError),
    (200, {"swapTransaction": "not base64!", "lastValidBlockHeight": 1}, MalformedResponseError),
    (200, {"swapTransaction": TX}, MalformedResponseError),
])
def test_a_failed_or_malformed_swap_answer_is_a_typed_error(status: int, body: dict, error: type) -> None:
    responses.post(SWAP_URL, json=body, status=status)
    with pytest.raises(error):
        SwapClient(HttpJsonTransport(SWAP_URL, 2)).swap({}, WALLET)


@responses.activate
def test_send_transaction_sends_base64_and_returns_the_signature() -> None:
    responses.post(RPC_URL, json=answer(SIG))
    assert node().send_transaction(TX) == SIG
    body = sent(to(RPC_URL))
    assert body["method"] == "sendTransaction" and body["params"][0] == TX
    assert body["params"][1]["encoding"] == "base64" and body["params"][1]["skipPreflight"] is False


@responses.activate
@pytest.mark.parametrize(("code", "message", "refused"), [
    (-32002, "Transaction simulation failed: Blockhash not found", True),
    (-32003, "Transaction signature verification failure", True),
    (-32005, "Node is unhealthy", False),
])
def test_an_rpc_error_object_is_raised_with_its_code(code: int, message: str, refused: bool) -> None:
    responses.post(RPC_URL, json={"jsonrpc": "2.0", "error": {"code": code, "message": message}, "id": 1})
    with pytest.raises(SolanaRpcError) as err:
        node().send_transaction(TX)
    assert (err.value.code, err.value.message, err.value.refused) == (code, message, refused)


@responses.activate
def test_no_answer_from_the_node_is_unavailable_not_refused() -> None:
    responses.post(RPC_URL, body=requests.ConnectTimeout("slow"))
    responses.post(RPC_URL, status=503, body="busy")
    for _ in range(2):
        with pytest.raises(RpcUnavailableError) as err:
            node().send_transaction(TX)
        assert not err.value.refused


@responses.activate
def test_signature_statuses_transaction_blockhash_height_and_balances_parse_the_live_shapes() -> None:
    status = {"slot": 72, "confirmations": 10, "err": None, "status": {"Ok": None}, "confirmationStatus": "confirmed"}
    responses.post(RPC_URL, json=answer({"context": {"slot": 82}, "value": [status, None]}))
    responses.post(RPC_URL, json=answer({"context": {"slot": 82}, "value": {
        "blockhash": "EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N", "lastValidBlockHeight": 3090}}))
    responses.post(RPC_URL, json=answer(3000))
    responses.post(RPC_URL, json=answer({"context": {"slot": 1}, "value": 2_039_280}))
    responses.post(RPC_URL, json=answer({"context": {"slot": 1}, "value": [{"pubkey": "x", "account": {"data": {
        "parsed": {"info": {"mint": USDC, "owner": WALLET, "tokenAmount": {"amount": "1500000", "decimals": 6}}},
        "program": "spl-token"}}}]}))
    rpc = node()
    assert rpc.signature_statuses([SIG, "other"]) == [status, None]
    assert rpc.latest_blockhash() == ("EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N", 3090)
    assert rpc.block_height() == 3000
    assert rpc.balance_lamports(WALLET) == 2_039_280
    assert rpc.token_balances(WALLET) == {USDC: 1_500_000}
    methods = [sent(c)["method"] for c in responses.calls]
    assert methods == ["getSignatureStatuses", "getLatestBlockhash", "getBlockHeight", "getBalance",
                       "getTokenAccountsByOwner"]
    assert sent(to(RPC_URL))["params"][1] == {"searchTransactionHistory": True}


def _balance(index: int, mint: str, amount: int) -> dict[str, Any]:
    return {"accountIndex": index, "mint": mint, "owner": WALLET, "programId": "Tokenkeg",
            "uiTokenAmount": {"amount": str(amount), "decimals": 6, "uiAmountString": "x"}}


@responses.activate
def test_get_transaction_asks_for_jsonparsed_v0_and_the_wallets_deltas_are_post_minus_pre() -> None:
    tx = {"slot": 99, "meta": {"err": None, "preTokenBalances": [_balance(1, SOL, 50), _balance(2, USDC, 7)],
                               "postTokenBalances": [_balance(1, SOL, 20), _balance(2, USDC, 1007)]}}
    responses.post(RPC_URL, json=answer(tx))
    assert wallet_deltas(node().transaction(SIG), WALLET) == {SOL: -30, USDC: 1000}
    assert sent(to(RPC_URL))["params"][1]["maxSupportedTransactionVersion"] == 0
    assert sent(to(RPC_URL))["params"][1]["encoding"] == "jsonParsed"


class _NoSleep:
    def __init__(self) -> None:
        self.t = 0.0

    def clock(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.t += s


@responses.activate
def test_a_blockhash_that_expires_with_no_status_means_never_landed() -> None:
    responses.post(RPC_URL, json=answer({"context": {"slot": 1}, "value": [None]}))
    responses.post(RPC_URL, json=answer(3091))  # getBlockHeight: past lastValidBlockHeight 3090
    responses.post(RPC_URL, json=answer({"context": {"slot": 1}, "value": [None]}))
    t = _NoSleep()
    chain = onchain.OnChain(SwapClient(HttpJsonTransport(SWAP_URL, 2)), node(), None,  # type: ignore[arg-type]
                            sleep=t.sleep, clock=t.clock)
    with pytest.raises(onchain.NotLanded) as lost:
        onchain.check(chain, SOL, USDC, SIG, 3090)
    assert lost.value.code == "TX_EXPIRED"


@responses.activate
def test_a_signature_still_within_its_blockhash_is_watched_until_the_timeout_then_unconfirmed() -> None:
    def by_method(request: Any) -> tuple[int, dict, str]:
        method = json.loads(request.body)["method"]
        result = 3000 if method == "getBlockHeight" else {"context": {"slot": 1}, "value": [None]}
        return 200, {}, json.dumps(answer(result))

    responses.add_callback(responses.POST, RPC_URL, callback=by_method)
    t = _NoSleep()
    chain = onchain.OnChain(SwapClient(HttpJsonTransport(SWAP_URL, 2)), node(), None,  # type: ignore[arg-type]
                            poll_interval_s=1, confirm_timeout_s=3, sleep=t.sleep, clock=t.clock)
    quote = type("Q", (), {"input_mint": SOL, "output_mint": USDC})()
    with pytest.raises(onchain.Unconfirmed) as waiting:
        onchain.confirm(chain, quote, SIG, 3090)  # type: ignore[arg-type]
    assert waiting.value.signature == SIG and t.t == 3
