"""On-chain legs in the ledger: a leg's signature recorded before its transaction is sent; `pending` -> `unknown`.

Each function is one transaction through trade_logger's unit of work (retried on transient errors).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

import trade_logger
from models import Trade, TradeLeg, db


def record_signature(leg_id: int, signature: str, last_valid_block_height: int) -> None:
    """Store a leg's transaction signature and its blockhash's last valid block height, before it is sent."""
    def work() -> None:
        db.session.execute(update(TradeLeg).where(TradeLeg.id == leg_id).values(
            tx_signature=signature, last_valid_block_height=last_valid_block_height)
            .execution_options(synchronize_session=False))

    trade_logger.in_transaction(work)


def mark_unknown(trade_id: int, code: str, reason: str, now: datetime) -> Trade:
    """`pending` -> `unknown`: its transaction may have landed; reservations stay held until recovery asks the chain."""
    def work() -> None:
        db.session.execute(
            update(Trade).where(Trade.id == trade_id, Trade.status == "pending")
            .values(status="unknown", error=reason, error_code=code, executed_at=now)
            .execution_options(synchronize_session=False))

    trade_logger.in_transaction(work)
    return db.session.execute(
        select(Trade).where(Trade.id == trade_id).execution_options(populate_existing=True)).scalar_one()
