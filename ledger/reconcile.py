"""Reconciliation: do pool inventories and trade records agree? Read-only checks, summed in SQL.

The invariant, per pool and side (atoms):
    inventory = initial + replenished + Σ received by filled trades − Σ paid out by pending and filled trades
(a pending trade has reserved its payout; it is credited what the pool receives when it fills; a failed trade gave
its reservation back; a rejected one never moved anything). Also: no side below zero, every filled trade's totals
equal the sum of its legs, every OTC leg names its pool, and no trade is pending longer than the recovery timeout.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, select

from core.tokens import format_ui, token_by_mint
from models import EXECUTED, OTCPool, Trade, TradeLeg, db

LIVE = ("pending", "unknown", "filled", "partial")  # unknown: its reservations stay held until recovery


@dataclass(frozen=True, slots=True)
class SideCheck:
    """One side of one pool: stored atoms against initial + replenished + received − paid."""

    venue: str
    symbol: str
    decimals: int
    stored_atoms: int
    initial_atoms: int
    replenished_atoms: int
    received_atoms: int
    paid_atoms: int

    @property
    def expected_atoms(self) -> int:
        """What the trade records say the pool holds."""
        return self.initial_atoms + self.replenished_atoms + self.received_atoms - self.paid_atoms

    @property
    def ok(self) -> bool:
        """Stored equals expected and is not negative."""
        return self.stored_atoms == self.expected_atoms and self.stored_atoms >= 0

    def line(self) -> str:
        """One human line: the equation and its verdict."""
        def ui(atoms: int) -> str:
            return format_ui(atoms, self.decimals, None)

        verdict = "ok" if self.ok else f"MISMATCH by {ui(self.stored_atoms - self.expected_atoms)}"
        return (f"{self.venue:<16} {self.symbol:<5} stored {ui(self.stored_atoms)} = initial {ui(self.initial_atoms)}"
                f" + replenished {ui(self.replenished_atoms)} + received {ui(self.received_atoms)}"
                f" - paid {ui(self.paid_atoms)}: {verdict}")


@dataclass(frozen=True, slots=True)
class Report:
    """Every side checked, plus the trades that break a rule."""

    sides: tuple[SideCheck, ...]
    stale_pending_ids: tuple[int, ...]
    bad_total_ids: tuple[int, ...]
    orphan_leg_ids: tuple[int, ...]

    @property
    def ok(self) -> bool:
        """True when every check passes."""
        return all(s.ok for s in self.sides) and not (self.stale_pending_ids or self.bad_total_ids
                                                       or self.orphan_leg_ids)


def _sum(cond) -> object:
    """SUM of leg atoms where cond holds (0 when none)."""
    return func.coalesce(func.sum(cond), 0)


def check(now: datetime, pending_timeout_s: float = 60) -> Report:
    """Compute the report from the database as it is now (one read of each table)."""
    sells_base = Trade.input_mint == OTCPool.base_mint  # the pool receives base and pays quote; else the reverse

    def moved(on_base_side: bool, statuses: tuple[str, ...], amount):
        return case((and_(Trade.status.in_(statuses), sells_base if on_base_side else ~sells_base), amount), else_=0)

    rows = db.session.execute(
        select(
            OTCPool,
            _sum(moved(True, EXECUTED, TradeLeg.in_amount_atoms)),  # base received
            _sum(moved(False, LIVE, TradeLeg.out_amount_atoms)),  # base paid
            _sum(moved(False, EXECUTED, TradeLeg.in_amount_atoms)),  # quote received
            _sum(moved(True, LIVE, TradeLeg.out_amount_atoms)),  # quote paid
        ).outerjoin(TradeLeg, TradeLeg.pool_id == OTCPool.id).outerjoin(Trade, Trade.id == TradeLeg.trade_id)
        .group_by(OTCPool.id).order_by(OTCPool.id)
    ).all()
    sides = []
    for pool, base_in, base_out, quote_in, quote_out in rows:
        for mint, stored, initial, replenished, got, paid in (
            (pool.base_mint, pool.base_atoms, pool.initial_base_atoms, pool.replenished_base_atoms, base_in, base_out),
            (pool.quote_mint, pool.quote_atoms, pool.initial_quote_atoms, pool.replenished_quote_atoms, quote_in,
             quote_out),
        ):
            token = token_by_mint(mint)
            sides.append(SideCheck(pool.venue, token.symbol, token.decimals, stored, initial, replenished,
                                   int(got), int(paid)))
    stale = db.session.scalars(select(Trade.id).where(
        Trade.status == "pending", Trade.created_at <= now - timedelta(seconds=pending_timeout_s)).order_by(Trade.id))
    bad_totals = db.session.scalars(
        select(Trade.id).join(TradeLeg, TradeLeg.trade_id == Trade.id).where(Trade.status.in_(EXECUTED))
        .group_by(Trade.id, Trade.in_amount_atoms, Trade.out_amount_atoms)
        .having((func.sum(TradeLeg.in_amount_atoms) != Trade.in_amount_atoms)
                | (func.sum(TradeLeg.out_amount_atoms) != Trade.out_amount_atoms)).order_by(Trade.id))
    orphans = db.session.scalars(select(TradeLeg.id).join(Trade, Trade.id == TradeLeg.trade_id).where(
        Trade.status.in_(LIVE), TradeLeg.venue.like("otc:%"), TradeLeg.pool_id.is_(None)).order_by(TradeLeg.id))
    return Report(tuple(sides), tuple(stale), tuple(bad_totals), tuple(orphans))


def render(report: Report) -> list[str]:
    """The report as lines for the CLI: each side, each broken rule, then the verdict."""
    lines = [side.line() for side in report.sides]
    if report.stale_pending_ids:
        lines.append(f"pending past the recovery timeout (run `recover`): trades {list(report.stale_pending_ids)}")
    if report.bad_total_ids:
        lines.append(f"filled trades whose totals differ from their legs: {list(report.bad_total_ids)}")
    if report.orphan_leg_ids:
        lines.append(f"OTC legs with no pool: {list(report.orphan_leg_ids)}")
    lines.append("reconcile: OK" if report.ok else "reconcile: FAILED")
    return lines
