"""The simulated chain's store: a transaction's balance changes apply once, with its pre/post balances, on both
backends (ledger/sim_chain_store.py)."""
from __future__ import annotations

from flask import Flask

from ledger.sim_chain_store import DbChainStore

OWNER, SOL, USDC = "Owner1111111111111111111111111111111111111", "So1111", "EPjF11"


def test_a_landed_transaction_applies_its_deltas_once_with_pre_and_post(any_app: Flask) -> None:
    store = DbChainStore()
    with any_app.app_context():
        assert store.land("sig-1", OWNER, 10, "tx1", None, {SOL: -5_000, USDC: 700})
        assert store.land("sig-2", OWNER, 11, "tx2", None, {SOL: -1_000, USDC: 150, "lamports": -5_000})
        assert store.balances(OWNER) == {SOL: -6_000, USDC: 850, "lamports": -5_000}
        second = store.landed("sig-2")
        assert second is not None
        assert second["pre"] == {SOL: -5_000, USDC: 700, "lamports": 0}
        assert second["post"] == {SOL: -6_000, USDC: 850, "lamports": -5_000}


def test_a_signature_that_landed_before_changes_no_balance(any_app: Flask) -> None:
    store = DbChainStore()
    with any_app.app_context():
        assert store.land("sig-1", OWNER, 10, "tx1", None, {SOL: -5_000, USDC: 700})
        assert not store.land("sig-1", OWNER, 12, "tx1", None, {SOL: -5_000, USDC: 700, "lamports": -5_000})
        assert store.balances(OWNER) == {SOL: -5_000, USDC: 700}
        record = store.landed("sig-1")
        assert record is not None and record["slot"] == 10
