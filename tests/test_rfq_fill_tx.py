"""The transaction a maker's /swap carries (Jupiter Z): a fill for exactly the quoted amounts, paid by the maker,
signed by the desk wallet as taker; the simulated makers decode and check it, and refuse anything else."""
from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import MessageV0, to_bytes_versioned
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from core import rfq_fill
from core.rfq_fill import FillTerms
from core.tokens import SOL, USDC
from ledger import maker_log
from models import db
from sim.rfq_fill_check import check_fill
from sim.rfq_makers import maker_pubkey
from tests.conftest import build_app, seed_instant_makers
from venues import wallet
from venues.rfq_client import RfqClient
from venues.rfq_fill_tx import fill_message

MAKER = Keypair()
BLOCKHASH = str(Hash.new_unique())


@pytest.fixture
def desk() -> wallet.Wallet:
    return wallet.Wallet(Keypair())


def terms_for(desk: wallet.Wallet, **changes: Any) -> FillTerms:
    base = {"taker": desk.pubkey, "maker": str(MAKER.pubkey()), "input_mint": SOL.mint, "output_mint": USDC.mint,
            "in_amount_atoms": 10**12, "out_amount_atoms": 150_000 * 10**6, "expire_at_s": int(time.time()) + 55}
    return FillTerms(**{**base, **changes})


def test_the_desk_signs_the_fill_as_taker_and_the_maker_check_accepts_exactly_it(desk: wallet.Wallet) -> None:
    terms = terms_for(desk)
    tx_b64 = desk.sign_rfq_fill(fill_message(terms, BLOCKHASH))
    tx = VersionedTransaction.from_bytes(base64.b64decode(tx_b64))
    assert tx.message.account_keys[0] == MAKER.pubkey()  # the maker pays and signs last
    assert tx.signatures[1].verify(Pubkey.from_string(desk.pubkey), to_bytes_versioned(tx.message))
    assert check_fill(tx_b64, terms, time.time()) is None
    assert check_fill(tx_b64, terms_for(desk, out_amount_atoms=terms.out_amount_atoms + 1), time.time()) == \
        "the fill's amounts are not the quoted ones"
    assert check_fill(tx_b64, terms_for(desk, maker=str(Keypair().pubkey())), time.time()) == \
        "the fee payer is not this maker"
    assert check_fill(tx_b64, terms, terms.expire_at_s + 1) == "the fill has expired or expires too late"


def test_a_fill_whose_taker_signature_is_forged_or_missing_is_refused(desk: wallet.Wallet) -> None:
    terms = terms_for(desk)
    message = fill_message(terms, BLOCKHASH)
    forged = VersionedTransaction.populate(message, [MAKER.sign_message(to_bytes_versioned(message))] * 2)
    assert check_fill(base64.b64encode(bytes(forged)).decode(), terms, time.time()) == \
        "the taker's signature does not verify"
    assert check_fill(base64.b64encode(b"{}").decode(), terms, time.time()) == \
        "the transaction is not a base64 VersionedTransaction"


def test_the_wallet_signs_no_fill_that_holds_another_program_or_makes_it_pay(desk: wallet.Wallet) -> None:
    terms = terms_for(desk)
    taker = Pubkey.from_string(desk.pubkey)
    drain = Instruction(Pubkey.from_string(rfq_fill.SYSTEM_PROGRAM_ID), bytes(12), [])
    other = fill_message(terms, BLOCKHASH)
    smuggled = MessageV0.try_compile(MAKER.pubkey(), [*_instructions(other), drain], [], Hash.from_string(BLOCKHASH))
    with pytest.raises(wallet.WalletError):
        desk.sign_rfq_fill(smuggled)
    with pytest.raises(wallet.WalletError):  # the desk as fee payer: not a maker fill
        desk.sign_rfq_fill(fill_message(terms_for(desk, maker=str(taker)), BLOCKHASH))


def _instructions(message: MessageV0) -> list[Instruction]:
    """A compiled message's instructions back as Instruction objects."""
    keys = message.account_keys
    out = []
    for ix in message.instructions:
        metas = [m for i in bytes(ix.accounts) for m in _meta(message, keys, i)]
        out.append(Instruction(keys[ix.program_id_index], bytes(ix.data), metas))
    return out


def _meta(message: MessageV0, keys: Any, i: int) -> list[AccountMeta]:
    return [AccountMeta(keys[i], message.is_signer(i), message.is_maybe_writable(i))]


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = build_app(f"sqlite:///{tmp_path / 'fill.db'}")
    seed_instant_makers(app, {"alpha": 40})
    yield app
    with app.app_context():
        db.engine.dispose()


def test_a_simulated_makers_swap_carries_the_signed_fill_of_its_quote(app: Flask,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[str] = []
    real_swap = RfqClient.swap

    def spy(self: RfqClient, ep: Any, request_id: str, quote_id: str, transaction: str, timeout_ms: int) -> Any:
        sent.append(transaction)
        return real_swap(self, ep, request_id, quote_id, transaction, timeout_ms)

    monkeypatch.setattr(RfqClient, "swap", spy)
    client = app.test_client()
    res = client.post("/api/v1/trades", json={"input": "SOL", "output": "USDC", "amount": "25000"})
    assert res.status_code == 201 and res.get_json()["venue"] == "rfq:alpha", res.get_json()
    leg = res.get_json()["legs"][0]
    [tx_b64] = sent
    desk_pubkey = app.extensions["market"].chain.wallet.pubkey
    terms = FillTerms(desk_pubkey, maker_pubkey("alpha"), SOL.mint, USDC.mint, int(leg["in_amount_atoms"]),
                      int(leg["out_amount_atoms"]), 0)
    parsed = VersionedTransaction.from_bytes(base64.b64decode(tx_b64))
    fill = next(ix for ix in parsed.message.instructions
                if str(parsed.message.account_keys[ix.program_id_index]) == rfq_fill.ORDER_ENGINE_PROGRAM_ID)
    expire_at_s = rfq_fill.parse_fill_data(bytes(fill.data))
    assert expire_at_s is not None
    assert check_fill(tx_b64, replace(terms, expire_at_s=expire_at_s[2]), time.time()) is None
    with app.app_context():
        assert [s.state for s in maker_log.swaps_of_trade(res.get_json()["id"])] == ["accepted"]


def test_a_simulated_maker_rejects_a_swap_whose_transaction_is_not_its_fill(app: Flask,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wallet.Wallet, "sign_rfq_fill",
                        lambda self, message: base64.b64encode(bytes(VersionedTransaction.populate(
                            message, [MAKER.sign_message(to_bytes_versioned(message))] * 2))).decode())
    app.extensions["market"] = _no_reroute(app)
    res = app.test_client().post("/api/v1/trades", json={"input": "SOL", "output": "USDC", "amount": "25000"})
    assert res.status_code == 422, res.get_json()
    error = res.get_json()["error"]
    assert error["code"] == "RFQ_REJECTED" and "the taker's signature does not verify" in error["message"]


def _no_reroute(app: Flask) -> Any:
    market = app.extensions["market"]
    return replace(market, settings=replace(market.settings, rfq_reroute=False))
