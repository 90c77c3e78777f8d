"""Rules of the Jupiter leg on chain, end to end in sim mode: signed, sent, confirmed, amounts = what moved."""
from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from solders.keypair import Keypair
from solders.transaction import VersionedTransaction

import sim.chain
from core.wire import RawResponse
from models import OTCPool, Trade, db, utcnow
from services import execution
from sim.price import SimConfig
from sim.swap_tx import swap_response
from tests.conftest import build_app
from venues import wallet
from venues.solana_rpc import RpcUnavailableError

SPLIT = {"input": "SOL", "output": "USDC", "amount": "60000", "slippage_bps": 50}  # above the pool's max: a split
SMALL = {"input": "SOL", "output": "USDC", "amount": "10", "slippage_bps": 50}  # Jupiter alone
USDC_MINT, SOL_MINT = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", "So11111111111111111111111111111111111111112"


@pytest.fixture
def chain_app(tmp_path: Path) -> Iterator[Flask]:
    """The sim-mode app with on-chain execution, its dev wallet under tmp_path's instance folder."""
    app = build_app(f"sqlite:///{tmp_path / 'chain.db'}")
    yield app
    with app.app_context():
        db.engine.dispose()


def rpc(client: FlaskClient, method: str, params: list[Any]) -> dict[str, Any]:
    """One JSON-RPC call to the simulated node over HTTP."""
    return client.post("/sim/solana", json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).get_json()


def wallet_change(tx: dict[str, Any], owner: str, mint: str) -> int:
    """The owner's token balance change of a mint in a jsonParsed transaction (post − pre, atoms)."""
    def amount(key: str) -> int:
        return sum(int(b["uiTokenAmount"]["amount"]) for b in tx["meta"][key] if b["owner"] == owner
                   and b["mint"] == mint)
    return amount("postTokenBalances") - amount("preTokenBalances")


def pool_atoms(app: Flask) -> tuple[int, int]:
    """The first pool's (base, quote) inventory in atoms, less what replenishment added."""
    with app.app_context():
        pool = db.session.scalars(db.select(OTCPool).order_by(OTCPool.id)).first()
        return pool.base_atoms - pool.replenished_base_atoms, pool.quote_atoms - pool.replenished_quote_atoms


def test_a_split_trades_jupiter_leg_carries_a_signature_the_chain_confirms_with_exactly_its_amounts(
        chain_app: Flask) -> None:
    client = chain_app.test_client()
    trade = client.post("/api/v1/trades", json=SPLIT).get_json()
    assert trade["status"] == "filled" and trade["venue"] == "split"
    leg = next(x for x in trade["legs"] if x["venue"] == "jupiter")
    otc = next(x for x in trade["legs"] if x["venue"] != "jupiter")
    assert otc["tx_signature"] is None and leg["tx_signature"] and leg["slot"] > 0
    owner = chain_app.extensions["market"].chain.wallet.pubkey
    found = rpc(client, "getTransaction", [leg["tx_signature"], {"encoding": "jsonParsed",
                                                                 "maxSupportedTransactionVersion": 0}])["result"]
    assert found["meta"]["err"] is None and found["slot"] == leg["slot"]
    assert wallet_change(found, owner, USDC_MINT) == int(leg["out_amount_atoms"])
    assert wallet_change(found, owner, SOL_MINT) == -int(leg["in_amount_atoms"])
    status = rpc(client, "getSignatureStatuses", [[leg["tx_signature"]]])["result"]["value"][0]
    assert status["confirmationStatus"] in ("confirmed", "finalized") and status["err"] is None


def test_the_wallet_balances_follow_the_landed_swaps(chain_app: Flask) -> None:
    client = chain_app.test_client()
    owner = chain_app.extensions["market"].chain.wallet.pubkey
    trade = client.post("/api/v1/trades", json=SMALL).get_json()
    accounts = rpc(client, "getTokenAccountsByOwner", [owner, {"mint": USDC_MINT}, {"encoding": "jsonParsed"}])
    held = accounts["result"]["value"][0]["account"]["data"]["parsed"]["info"]["tokenAmount"]["amount"]
    assert int(held) == sim.chain.FUNDING_ATOMS + int(trade["out_amount_atoms"])
    lamports = rpc(client, "getBalance", [owner])["result"]["value"]
    assert lamports == sim.chain.FUNDING_ATOMS - sim.chain.FEE_LAMPORTS


def _signed_swap(client: FlaskClient, now_s: float | None = None, keypair: Keypair | None = None) -> str:
    """A swap transaction for 10 SOL built by the simulated Jupiter (at now_s) and signed by a fresh keypair."""
    keypair = keypair or Keypair()
    quote = client.get("/sim/jupiter/swap/v1/quote", query_string={
        "inputMint": SOL_MINT, "outputMint": USDC_MINT, "amount": "10000000000", "slippageBps": "50"}).get_json()
    body = {"quoteResponse": quote, "userPublicKey": str(keypair.pubkey())}
    if now_s is None:
        built = client.post("/sim/jupiter/swap/v1/swap", json=body).get_json()
    else:
        built = swap_response(body, now_s, SimConfig())[1]
    tx = VersionedTransaction.from_bytes(base64.b64decode(built["swapTransaction"]))
    return base64.b64encode(bytes(VersionedTransaction(tx.message, [keypair]))).decode()


def test_a_tampered_transaction_is_refused(chain_app: Flask) -> None:
    client = chain_app.test_client()
    raw = bytearray(base64.b64decode(_signed_swap(client)))
    at = raw.find(b'"amount":"') + len(b'"amount":"')
    raw[at] = ord("9") if raw[at] != ord("9") else ord("8")  # the swap's amount, after signing
    answer = rpc(client, "sendTransaction", [base64.b64encode(bytes(raw)).decode(), {"encoding": "base64"}])
    assert answer["error"] == {"code": -32003, "message": "Transaction signature verification failure"}


def test_an_expired_transaction_is_refused_and_never_lands(chain_app: Flask) -> None:
    client = chain_app.test_client()
    old = _signed_swap(client, now_s=time.time() - 120)  # 300 blocks ago: past its 150-block window
    answer = rpc(client, "sendTransaction", [old, {"encoding": "base64"}])
    assert answer["error"]["code"] == -32002 and answer["error"]["data"]["err"] == "BlockhashNotFound"
    assert answer["error"]["message"] == "Transaction simulation failed: Blockhash not found"
    sig = str(VersionedTransaction.from_bytes(base64.b64decode(old)).signatures[0])
    skipped = rpc(client, "sendTransaction", [old, {"encoding": "base64", "skipPreflight": True}])
    assert skipped["result"] == sig  # forwarded without preflight ...
    assert rpc(client, "getSignatureStatuses", [[sig]])["result"]["value"] == [None]  # ... and never lands


def test_a_fresh_signed_transaction_lands_once(chain_app: Flask) -> None:
    client = chain_app.test_client()
    tx = _signed_swap(client)
    first = rpc(client, "sendTransaction", [tx, {"encoding": "base64"}])
    assert "result" in first
    again = rpc(client, "sendTransaction", [tx, {"encoding": "base64"}])
    assert again["error"]["data"]["err"] == "AlreadyProcessed"
    assert rpc(client, "getTransaction", [first["result"], {"encoding": "jsonParsed"}])["error"]["code"] == -32015


def test_unknown_methods_and_bad_requests_get_json_rpc_errors(chain_app: Flask) -> None:
    client = chain_app.test_client()
    assert rpc(client, "getNothing", [])["error"] == {"code": -32601, "message": "Method not found"}
    bad = client.post("/sim/solana", data="{not json", content_type="application/json").get_json()
    assert bad["error"]["code"] == -32700
    assert client.post("/sim/solana", json={"id": 3}).get_json()["error"]["code"] == -32600
    assert rpc(client, "getBalance", ["not-a-key"])["error"]["code"] == -32602


def test_min_out_is_checked_against_what_moved_on_chain(chain_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    real = sim.chain.settle_swap
    monkeypatch.setattr(sim.chain, "settle_swap", lambda terms, now_s, config, displaced: (  # 3 % worse when it lands
        lambda moved: (moved[0], moved[1] * 97 // 100))(real(terms, now_s, config, displaced)))
    chain_app.extensions["market"] = _with_chain(chain_app, skip_preflight=True)
    before = pool_atoms(chain_app)
    client = chain_app.test_client()
    answer = client.post("/api/v1/trades", json=SPLIT).get_json()
    assert answer["error"]["code"] == "SLIPPAGE_EXCEEDED"
    with chain_app.app_context():
        trade = db.session.get(Trade, answer["error"]["trade_id"])
        sig = next(leg.tx_signature for leg in trade.legs if leg.venue == "jupiter")
        assert trade.status == "failed"
    found = rpc(client, "getTransaction", [sig, {"encoding": "jsonParsed", "maxSupportedTransactionVersion": 0}])
    assert found["result"]["meta"]["err"] == {"InstructionError": [0, {"Custom": 6001}]}  # failed on chain
    assert pool_atoms(chain_app) == before  # every reservation released


def test_a_fill_a_little_worse_than_quoted_is_recorded_at_what_moved(chain_app: Flask,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    real = sim.chain.settle_swap
    honest: list[int] = []  # what the DEX would have paid at landing (the market moves between quote and landing)

    def worse(terms: Any, now_s: float, config: SimConfig, displaced: Any) -> tuple[int, int] | None:
        moved = real(terms, now_s, config, displaced)
        assert moved is not None
        honest.append(moved[1])
        return moved[0], moved[1] - 1000

    monkeypatch.setattr(sim.chain, "settle_swap", worse)
    client = chain_app.test_client()
    trade = client.post("/api/v1/trades", json=SMALL).get_json()
    leg = trade["legs"][0]
    found = rpc(client, "getTransaction", [leg["tx_signature"], {"encoding": "jsonParsed",
                                                                 "maxSupportedTransactionVersion": 0}])["result"]
    owner = chain_app.extensions["market"].chain.wallet.pubkey
    assert trade["status"] == "filled" and int(trade["out_amount_atoms"]) == wallet_change(found, owner, USDC_MINT)
    assert int(trade["out_amount_atoms"]) == honest[-1] - 1000


def _with_chain(app: Flask, **changes: Any) -> Any:
    """The app's market with its chain settings changed."""
    market = app.extensions["market"]
    return replace(market, chain=replace(market.chain, **changes))


class FlakyRpc:
    """The simulated node behind a switch: drop sendTransaction before it arrives, or stop answering after it."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.drop_send, self.mute_after_send = inner, False, False
        self.sent = False

    def __call__(self, body: dict[str, Any]) -> RawResponse:
        if body["method"] == "sendTransaction":
            if self.drop_send:
                raise RpcUnavailableError("connection reset")
            self.sent = True
        elif self.mute_after_send and self.sent:
            raise RpcUnavailableError("read timed out")
        return self.inner(body)


def _flaky(app: Flask) -> FlakyRpc:
    market = app.extensions["market"]
    flaky = FlakyRpc(market.chain.rpc.transport)
    market.chain.rpc.transport = flaky
    return flaky


def test_a_sent_but_unconfirmed_trade_is_unknown_then_recovered_as_landed(chain_app: Flask) -> None:
    flaky = _flaky(chain_app)
    flaky.mute_after_send = True
    before = pool_atoms(chain_app)
    client = chain_app.test_client()
    response = client.post("/api/v1/trades", json=SPLIT)
    trade = response.get_json()
    assert response.status_code == 202 and trade["status"] == "unknown" and trade["error_code"] == "TX_UNCONFIRMED"
    assert pool_atoms(chain_app) != before  # the OTC reservation stays held while the chain may have it
    assert client.get("/api/v1/trades?status=unknown").get_json()["trades"][0]["id"] == trade["id"]
    flaky.mute_after_send = False
    with chain_app.app_context():
        done = execution.recover(utcnow(), 60, chain_app.extensions["market"])
        assert [(t.id, t.status) for t in done] == [(trade["id"], "filled")]
    filled = client.get(f"/api/v1/trades/{trade['id']}").get_json()
    leg = next(x for x in filled["legs"] if x["venue"] == "jupiter")
    found = rpc(client, "getTransaction", [leg["tx_signature"], {"encoding": "jsonParsed",
                                                                 "maxSupportedTransactionVersion": 0}])["result"]
    owner = chain_app.extensions["market"].chain.wallet.pubkey
    assert wallet_change(found, owner, USDC_MINT) == int(leg["out_amount_atoms"]) and leg["slot"] == found["slot"]


def test_a_sent_but_unconfirmed_trade_that_never_landed_fails_once_its_blockhash_expires(chain_app: Flask) -> None:
    flaky = _flaky(chain_app)
    flaky.drop_send = True
    before = pool_atoms(chain_app)
    client = chain_app.test_client()
    trade = client.post("/api/v1/trades", json=SPLIT).get_json()
    assert trade["status"] == "unknown"
    flaky.drop_send = False
    market = chain_app.extensions["market"]
    with chain_app.app_context():
        assert execution.recover(utcnow(), 60, market) == []  # its blockhash is still valid: it may yet land
        flaky.inner.clock = lambda: time.time() + 120  # 300 blocks later
        done = execution.recover(utcnow(), 60, market)
        assert [(t.id, t.status, t.error_code) for t in done] == [(trade["id"], "failed", "TX_EXPIRED")]
    assert pool_atoms(chain_app) == before  # released


def test_a_wallet_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "desk.json"
    secret = list(bytes(Keypair()))
    path.write_text(json.dumps(secret))
    os.chmod(path, 0o644)
    with pytest.raises(wallet.WalletError, match="group or others") as refused:
        wallet.load(path)
    assert str(secret[0]) + "," not in str(refused.value)
    os.chmod(path, 0o600)
    loaded = wallet.load(path)
    assert loaded.pubkey == str(Keypair.from_bytes(bytes(secret)).pubkey()) and "[" not in repr(loaded)
    path.write_text("[1, 2, 3]")
    with pytest.raises(wallet.WalletError, match="not a Solana CLI keypair"):
        wallet.load(path)


def test_the_dev_wallet_is_generated_once_with_mode_600(tmp_path: Path) -> None:
    first = wallet.dev_wallet(tmp_path)
    assert (tmp_path / "sim-keypair.json").stat().st_mode & 0o777 == 0o600
    assert wallet.dev_wallet(tmp_path).pubkey == first.pubkey


def test_live_mode_requires_the_keypair_path(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="SOLANA_KEYPAIR_PATH"):
        build_app(f"sqlite:///{tmp_path / 'live.db'}", JUPITER_MODE="live")


def test_the_wallet_signs_only_its_own_transactions(chain_app: Flask) -> None:
    client = chain_app.test_client()
    other = _signed_swap(client)  # fee payer: another keypair
    with pytest.raises(wallet.WalletError, match="fee payer"):
        chain_app.extensions["market"].chain.wallet.sign(other)
