"""Where a parent order stands (issue 16): its children, filled vs scheduled atoms, average price vs arrival mid.

Read-only: the API's and the pages' view of a parent order, and the slice helpers the stepping shares with it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from core import schedule
from core.orders import Order
from ledger import parent_orders as store
from ledger.parent_orders import ParentOrder, ParentSlice
from models import Trade, db, utcnow
from services import quoting


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a parent order stands: filled vs scheduled (atoms), average price vs the arrival mid, its children."""

    parent: ParentOrder
    slices: list[ParentSlice]
    trades: dict[int, Trade]
    filled_atoms: int
    scheduled_atoms: int
    out_atoms: int  # the other side of the filled children (output for ExactIn, input for ExactOut)
    avg_price: Decimal | None  # output per input token, human units
    shortfall_bps: Decimal | None  # cost against the arrival mid (positive: paid)


def order_of(parent: ParentOrder, amount_atoms: int) -> Order:
    """The child order of a slice: the parent's pair, mode and slippage for amount_atoms."""
    return quoting.parse_order({"input": parent.input_mint, "output": parent.output_mint,
                                "amount_atoms": str(amount_atoms), "swap_mode": parent.swap_mode,
                                "slippage_bps": parent.slippage_bps})


def fixed_atoms(parent: ParentOrder, trade: Trade) -> int:
    """The amount of a filled child on the parent's fixed side (input for ExactIn, output for ExactOut)."""
    return trade.in_amount_atoms if parent.swap_mode == "ExactIn" else trade.out_amount_atoms


def children(slices: list[ParentSlice]) -> dict[int, Trade]:
    """The trades of a parent's slices by id."""
    ids = [s.trade_id for s in slices if s.trade_id is not None]
    return {t.id: t for t in db.session.scalars(select(Trade).where(Trade.id.in_(ids)))} if ids else {}


def filled_atoms(parent: ParentOrder, slices: list[ParentSlice], trades: dict[int, Trade]) -> int:
    """What the parent has filled: the fixed-side amounts of its filled slices' trades."""
    return sum(fixed_atoms(parent, trades[s.trade_id]) for s in slices
               if s.status == store.FILLED and s.trade_id in trades)


def progress(parent: ParentOrder, now: datetime | None = None) -> Progress:
    """The parent's progress at now (the schedule's due amount stops at the deadline or when it finished)."""
    now = now or utcnow()
    slices = store.slices_of(parent.id)
    trades = children(slices)
    filled = [trades[s.trade_id] for s in slices if s.status == store.FILLED and s.trade_id in trades]
    sizes = schedule.slice_sizes(parent.amount_atoms, parent.slices)
    at = min(now, parent.finished_at or now)
    due = schedule.slices_due(parent.start_at.timestamp(), parent.duration_s, parent.slices, at.timestamp())
    in_atoms, out_atoms = sum(t.in_amount_atoms for t in filled), sum(t.out_amount_atoms for t in filled)
    avg = shortfall = None
    order = order_of(parent, parent.amount_atoms)
    if in_atoms and out_atoms:
        avg = (Decimal(out_atoms).scaleb(-order.output_token.decimals)
               / Decimal(in_atoms).scaleb(-order.input_token.decimals))
        if parent.arrival_mid:
            shortfall = ((parent.arrival_mid - avg) / parent.arrival_mid * 10_000).quantize(Decimal("0.01"))
    fixed = sum(fixed_atoms(parent, t) for t in filled)
    return Progress(parent, slices, trades, fixed, sum(sizes[:due]), out_atoms if order.exact_in else in_atoms,
                    avg, shortfall)
