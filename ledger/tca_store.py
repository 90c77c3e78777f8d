"""The TCA table: one row per trade decided with transaction-cost analysis, written in the trade's own transactions.

- add_decided() (in reserve's transaction): the arrival mid, the decided impact/fees/spread and each benchmark's
  (in, out) atoms at decision time;
- settle() (in settle's transaction): the shortfall of the fill in atoms and bps, timing as the rest, savings against
  every benchmark (bps, and USD atoms at the trade's notional), and when the first markout is due;
- store_markouts() (the background step): markouts of the reference price at +1/10/60/300 s, as each falls due.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from core import tca
from core.orders import Order
from core.tokens import token_by_mint
from core.units import BPS
from models import BPS as BPS_COLUMN
from models import MID, Trade, UTCDateTime, db


class TradeTca(db.Model):
    """A trade's transaction-cost analysis (bps of the arrival value; atoms of the order's other side)."""

    __tablename__ = "trade_tca"

    trade_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                          ForeignKey("trades.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # the trade's, for window scans
    venue: Mapped[str] = mapped_column(String(64))  # the trade's route (venue or split)
    arrival_mid: Mapped[Decimal] = mapped_column(MID)
    impact_bps: Mapped[Decimal] = mapped_column(BPS_COLUMN)
    fees_bps: Mapped[Decimal] = mapped_column(BPS_COLUMN)
    spread_bps: Mapped[Decimal] = mapped_column(BPS_COLUMN)
    timing_bps: Mapped[Decimal | None] = mapped_column(BPS_COLUMN, nullable=True)
    shortfall_atoms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    shortfall_bps: Mapped[Decimal | None] = mapped_column(BPS_COLUMN, nullable=True)
    bench: Mapped[dict[str, Any]] = mapped_column(JSON)  # benchmark -> [in, out] atoms strings, or null; TWAP terms
    savings_jupiter_one_shot_bps: Mapped[Decimal | None] = mapped_column(BPS_COLUMN, nullable=True)
    savings_best_single_venue_bps: Mapped[Decimal | None] = mapped_column(BPS_COLUMN, nullable=True)
    savings_twap_bps: Mapped[Decimal | None] = mapped_column(BPS_COLUMN, nullable=True)
    savings_jupiter_one_shot_usd_atoms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    savings_best_single_venue_usd_atoms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    savings_twap_usd_atoms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    filled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    markout_1s_bps: Mapped[Decimal | None] = mapped_column(BPS_COLUMN, nullable=True)
    markout_10s_bps: Mapped[Decimal | None] = mapped_column(BPS_COLUMN, nullable=True)
    markout_60s_bps: Mapped[Decimal | None] = mapped_column(BPS_COLUMN, nullable=True)
    markout_300s_bps: Mapped[Decimal | None] = mapped_column(BPS_COLUMN, nullable=True)
    markouts_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)

    trade: Mapped[Trade] = relationship(backref=backref("tca", uselist=False, lazy="joined", passive_deletes=True))


@dataclass(frozen=True, slots=True)
class Decided:
    """What TCA needs from decision time: the arrival mid, decided components (bps) and benchmarks' (in, out) atoms."""

    arrival_mid: Decimal
    impact_bps: Decimal
    fees_bps: Decimal
    spread_bps: Decimal
    benchmarks: dict[str, tuple[int, int] | None]
    twap_terms: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """Exact JSON (decimal and atom strings) for a stored quote's payload."""
        return {"arrival_mid": str(self.arrival_mid), "impact_bps": str(self.impact_bps),
                "fees_bps": str(self.fees_bps), "spread_bps": str(self.spread_bps),
                "benchmarks": {k: None if v is None else [str(v[0]), str(v[1])] for k, v in self.benchmarks.items()},
                "twap_terms": self.twap_terms}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Decided:
        """The inverse of to_json (exact round trip)."""
        return cls(Decimal(data["arrival_mid"]), Decimal(data["impact_bps"]), Decimal(data["fees_bps"]),
                   Decimal(data["spread_bps"]),
                   {k: None if v is None else (int(v[0]), int(v[1])) for k, v in data["benchmarks"].items()},
                   dict(data.get("twap_terms") or {}))


def add_decided(trade: Trade, decided: Decided | None) -> None:
    """Insert the trade's decision-time TCA row (the caller's transaction; the trade is flushed)."""
    if decided is None:
        return
    db.session.add(TradeTca(
        trade_id=trade.id, created_at=trade.created_at, venue=trade.venue,
        arrival_mid=trade.arrival_mid if trade.arrival_mid is not None else decided.arrival_mid,
        impact_bps=decided.impact_bps, fees_bps=decided.fees_bps, spread_bps=decided.spread_bps,
        bench={**decided.to_json()["benchmarks"], "twap_terms": decided.twap_terms}))


def order_of(trade: Trade) -> Order:
    """The order a trade filled (its fixed side's amount as executed)."""
    exact_in = trade.swap_mode == "ExactIn"
    return Order(token_by_mint(trade.input_mint), token_by_mint(trade.output_mint),
                 trade.in_amount_atoms if exact_in else trade.out_amount_atoms, trade.swap_mode, trade.slippage_bps)


def benchmark(row: TradeTca, name: str) -> tuple[int, int] | None:
    """A stored benchmark's (in, out) atoms, or None."""
    found = row.bench.get(name)
    return None if not found else (int(found[0]), int(found[1]))


def settle(trade: Trade) -> None:
    """Complete a just-filled trade's TCA row (the caller's transaction): shortfall, timing, savings, markouts due."""
    row = db.session.get(TradeTca, trade.id)
    if row is None or trade.executed_at is None:
        return
    order = order_of(trade)
    row.shortfall_atoms, row.shortfall_bps = tca.shortfall(order, row.arrival_mid, trade.in_amount_atoms,
                                                           trade.out_amount_atoms)
    row.timing_bps = tca.components(row.shortfall_bps, {"impact": row.impact_bps, "fees": row.fees_bps,
                                                        "spread": row.spread_bps})["timing"]
    jupiter = None
    if trade.jupiter_only_in_amount_atoms is not None and trade.jupiter_only_out_amount_atoms is not None:
        jupiter = (trade.jupiter_only_in_amount_atoms, trade.jupiter_only_out_amount_atoms)
    for name, bench in (("jupiter_one_shot", jupiter), ("best_single_venue", benchmark(row, "best_single_venue")),
                        ("twap", benchmark(row, "twap"))):
        saved = tca.savings_vs(order, trade.in_amount_atoms, trade.out_amount_atoms, bench)
        setattr(row, f"savings_{name}_bps", None if saved is None else saved[1])
        setattr(row, f"savings_{name}_usd_atoms", None if saved is None else _usd(trade, saved))
    row.venue, row.filled_at = trade.venue, trade.executed_at
    row.markouts_due_at = trade.executed_at + timedelta(seconds=tca.MARKOUT_HORIZONS_S[0])


def _usd(trade: Trade, saved: tuple[int, Decimal]) -> int:
    """USD atoms of saved other-side atoms: at the rate of the trade's Jupiter saving when it has one, else its
    notional × the saved bps; rounded toward zero."""
    if trade.savings_atoms and trade.savings_usd_atoms:
        return int(Decimal(trade.savings_usd_atoms) * saved[0] / trade.savings_atoms)
    return int(Decimal(trade.notional_usd_atoms) * saved[1] / BPS)


def due(now: datetime, limit: int = 500) -> list[tuple[TradeTca, Trade]]:
    """TCA rows with a markout due at `now` and their trades, oldest due first (at most `limit`)."""
    return list(db.session.execute(
        select(TradeTca, Trade).join(Trade, Trade.id == TradeTca.trade_id)
        .where(TradeTca.markouts_due_at.is_not(None), TradeTca.markouts_due_at <= now)
        .order_by(TradeTca.markouts_due_at).limit(limit)).tuples())


def next_due(row: TradeTca) -> datetime | None:
    """When the row's next missing markout falls due, or None when all are known."""
    assert row.filled_at is not None
    for h in tca.MARKOUT_HORIZONS_S:
        if getattr(row, f"markout_{h}s_bps") is None:
            return row.filled_at + timedelta(seconds=h)
    return None


def store_markouts(found: Iterable[tuple[TradeTca, dict[int, Decimal]]]) -> int:
    """Store computed markouts (horizon s -> bps) and each row's next due time, in one transaction; rows changed."""
    n = 0
    for row, values in found:
        for h, bps in values.items():
            setattr(row, f"markout_{h}s_bps", bps)
        row.markouts_due_at = next_due(row)
        n += 1
    db.session.commit()
    return n
