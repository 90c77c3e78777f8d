"""A partial fill: a maker accepted its leg at last look, then another leg of the trade could not be executed.

The maker moves what it accepted whatever happens to the other legs, so the ledger records it: `pending`/`unknown`
-> `partial`, one transaction through trade_logger's unit of work. The accepted legs (pool-less maker legs) keep
their quoted amounts, at the venue that accepted them; every other leg is removed from the trade and its OTC
reservation given back (nothing of it executed). The trade's totals become the kept legs' sums; its notional is
pro rata of the fixed side filled (rounded down); savings and TCA benchmarks were priced for the whole order, so
they are not claimed (null); the shortfall against the arrival mid and the markouts are measured on what filled.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import select, update

import trade_logger
from core.units import SwapMode
from ledger import inventory, rollups, tca_store
from models import PARTIAL, Trade, TradeLeg, db

BPS_STEP = Decimal("0.0001")  # the BPS column's scale


def settle_partial(trade_id: int, kept: Mapping[int, tuple[str, int, int]], code: str, reason: str,
                   now: datetime) -> Trade:
    """`pending`/`unknown` -> `partial`: keep the legs in `kept` (leg id -> (venue, in, out) atoms), release the rest.

    Returns the trade as stored (another finisher's result when it moved first).
    """
    def work() -> Trade | None:
        result = db.session.execute(
            update(Trade).where(Trade.id == trade_id, Trade.status.in_(trade_logger.UNFINISHED))
            .values(status=PARTIAL, executed_at=now, settled_at=now, error=reason, error_code=code)
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            return None
        trade = db.session.execute(select(Trade).where(Trade.id == trade_id)
                                   .execution_options(populate_existing=True)).scalar_one()
        fixed_before = _fixed(trade)
        dropped = [leg for leg in trade.legs if leg.id not in kept]
        pays = [(leg.pool_id, leg.out_amount_atoms) for leg in dropped if leg.pool_id is not None]
        inventory.move_legs(pays, trade.input_mint, now, received=False, sign=1)
        for leg in dropped:
            trade.legs.remove(leg)
        for leg in trade.legs:
            leg.venue, leg.in_amount_atoms, leg.out_amount_atoms = kept[leg.id]
        gets = [(leg.pool_id, leg.in_amount_atoms) for leg in trade.legs if leg.pool_id is not None]
        inventory.move_legs(gets, trade.input_mint, now, received=True, sign=1)
        _retotal(trade, fixed_before)
        tca_store.settle(trade)
        row = db.session.get(tca_store.TradeTca, trade_id)
        if row is not None:  # benchmarks and decided components were priced for the whole order
            row.timing_bps = None
            for name in ("jupiter_one_shot", "best_single_venue", "twap"):
                setattr(row, f"savings_{name}_bps", None)
                setattr(row, f"savings_{name}_usd_atoms", None)
        rollups.add_trades([trade_id])
        return trade

    found = trade_logger.in_transaction(work)
    return found or db.session.execute(select(Trade).where(Trade.id == trade_id)
                                       .execution_options(populate_existing=True)).scalar_one()


def _fixed(trade: Trade) -> int:
    """The trade's amount on the order's fixed side (atoms)."""
    return trade.in_amount_atoms if trade.swap_mode == SwapMode.EXACT_IN else trade.out_amount_atoms


def _retotal(trade: Trade, fixed_before: int) -> None:
    """Totals from the kept legs; notional pro rata (rounded down); savings unclaimed; cost the legs' weighted mean."""
    legs: list[TradeLeg] = list(trade.legs)
    trade.in_amount_atoms = sum(leg.in_amount_atoms for leg in legs)
    trade.out_amount_atoms = sum(leg.out_amount_atoms for leg in legs)
    trade.venue = legs[0].venue if len(legs) == 1 else "split"
    if fixed_before > 0:
        trade.notional_usd_atoms = trade.notional_usd_atoms * _fixed(trade) // fixed_before
    trade.savings_atoms, trade.savings_bps, trade.savings_usd_atoms = None, None, 0
    exact_in = trade.swap_mode == SwapMode.EXACT_IN
    weights = [(leg.in_amount_atoms if exact_in else leg.out_amount_atoms, leg.cost_bps) for leg in legs]
    total = sum(w for w, _ in weights)
    if total and all(c is not None for _, c in weights):
        mean = sum(Decimal(w) * c for w, c in weights if c is not None) / total
        trade.cost_bps = mean.quantize(BPS_STEP, rounding=ROUND_DOWN)
