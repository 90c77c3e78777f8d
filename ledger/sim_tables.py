"""Tables of the simulated market, shared by every worker and host: the AMM pools' displacement by our own swaps
(ledger/sim_pools.py) and the simulated Solana chain's landed transactions and balances (ledger/sim_chain_store.py).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models import UTCDateTime, db, utcnow


class SimPoolState(db.Model):
    """A simulated AMM pool's displacement by our own swaps (sim.impact): base atoms, as of a Unix second."""

    __tablename__ = "sim_pool_states"

    amm_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    base_atoms: Mapped[int] = mapped_column(BigInteger)  # signed: beyond (+) or short of (-) equilibrium
    as_of_s: Mapped[int] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SimChainTransaction(db.Model):
    """A transaction landed on the simulated Solana chain (sim/rpc.py), shared by every worker.

    pre/post: the owner's balances before and after, as atoms changed since the wallet's funding (key: mint or
    'lamports'); err: the transaction's meta.err (None when it succeeded).
    """

    __tablename__ = "sim_chain_transactions"

    signature: Mapped[str] = mapped_column(String(88), primary_key=True)
    owner: Mapped[str] = mapped_column(String(44), index=True)
    slot: Mapped[int] = mapped_column(BigInteger)
    tx: Mapped[str] = mapped_column(Text)  # the signed transaction, base64
    err: Mapped[Any | None] = mapped_column(JSON, nullable=True)
    pre: Mapped[dict[str, int]] = mapped_column(JSON)
    post: Mapped[dict[str, int]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SimChainBalance(db.Model):
    """A simulated wallet's balance of one mint (or 'lamports'), as atoms changed since its funding."""

    __tablename__ = "sim_chain_balances"

    owner: Mapped[str] = mapped_column(String(44), primary_key=True)
    mint: Mapped[str] = mapped_column(String(64), primary_key=True)
    delta_atoms: Mapped[int] = mapped_column(BigInteger, default=0)
