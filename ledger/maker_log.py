"""The RFQ makers' ledger: each round of quote requests (and the makers' health), and the last-look swap claims.

Each function is one short transaction; none stays open across a maker call. A swap is claimed by inserting its
row under the maker's unique quote id before the call: a second claim of the same quote id fails, so a retried
swap is never sent twice.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ledger.maker_tables import Maker, MakerRequest, MakerSwap
from models import Trade, db

COOLDOWN_STEPS = (1, 2, 4, 6)  # the cool-down grows with each suspension (Jupiter Z: 5, 10, 20, 30 min)


@dataclass(frozen=True, slots=True)
class Health:
    """How one maker's round went: failed (every request late, broken or unreachable) and a sentence why."""

    failed: bool
    error: str | None = None


def record_round(rows: Iterable[MakerRequest], health: Mapping[int, Health], now: datetime, *,
                 suspend_after: int, cooldown_s: float) -> list[Maker]:
    """Store a round's requests and update each maker's failure streak; suspend a maker failing persistently. The
    makers this round suspended."""
    db.session.add_all(list(rows))
    suspended = []
    for maker_id, h in health.items():
        if not h.failed:
            db.session.execute(update(Maker).where(Maker.id == maker_id, Maker.fail_streak != 0)
                               .values(fail_streak=0).execution_options(synchronize_session=False))
            continue
        maker = db.session.get(Maker, maker_id)
        if maker is None:
            continue
        maker.fail_streak += 1
        maker.last_error = (h.error or "failed")[:500]
        if maker.fail_streak >= suspend_after:
            step = COOLDOWN_STEPS[min(maker.suspensions, len(COOLDOWN_STEPS) - 1)]
            maker.suspended_until = now + timedelta(seconds=cooldown_s * step)
            maker.suspensions += 1
            maker.fail_streak = 0
            suspended.append(maker)
    db.session.commit()
    return suspended


def mark_won(quote_ids: Mapping[str, object]) -> None:
    """Mark the requests whose quotes the decision used (quote id -> improvement bps or None)."""
    for quote_id, improvement in quote_ids.items():
        db.session.execute(update(MakerRequest).where(MakerRequest.quote_id == quote_id)
                           .values(won=True, improvement_bps=improvement).execution_options(synchronize_session=False))
    db.session.commit()


def claim_swap(swap: MakerSwap) -> MakerSwap | None:
    """Insert the swap as `sending` (commit); None when this quote id was claimed before (never send it twice)."""
    db.session.add(swap)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    return swap


def swap_of(quote_id: str) -> MakerSwap | None:
    """The swap claimed for a maker quote id, if any."""
    return db.session.scalar(select(MakerSwap).where(MakerSwap.quote_id == quote_id))


def finish_swap(quote_id: str, state: str, reason: str | None, latency_ms: int | None, *,
                trade_id: int | None = None, rerouted_to: str | None = None) -> None:
    """Record the maker's verdict on a claimed swap (and where a rejected leg went instead)."""
    values: dict[str, object] = {"state": state, "reason": reason, "latency_ms": latency_ms}
    if trade_id is not None:
        values["trade_id"] = trade_id
    if rerouted_to is not None:
        values["rerouted_to"] = rerouted_to
    db.session.execute(update(MakerSwap).where(MakerSwap.quote_id == quote_id).values(**values)
                       .execution_options(synchronize_session=False))
    db.session.commit()


def unanswered(maker_id: int, before: datetime) -> list[MakerSwap]:
    """A maker's swaps sent before `before` whose answer was never recorded (ops must ask the maker), oldest first."""
    return list(db.session.scalars(select(MakerSwap).where(MakerSwap.maker_id == maker_id,
                                                           MakerSwap.state == "sending", MakerSwap.at < before)
                                   .order_by(MakerSwap.id).limit(20)))


def link_trade(quote_ids: Iterable[str], trade_id: int) -> None:
    """Name the trade on swaps sent for it before it had an id (the demo's back-dated last look); commit."""
    ids = list(quote_ids)
    if ids:
        db.session.execute(update(MakerSwap).where(MakerSwap.quote_id.in_(ids), MakerSwap.trade_id.is_(None))
                           .values(trade_id=trade_id).execution_options(synchronize_session=False))
        db.session.commit()


def swaps_of_trade(trade_id: int) -> list[MakerSwap]:
    """Every last-look attempt of a trade, in order."""
    return list(db.session.scalars(select(MakerSwap).where(MakerSwap.trade_id == trade_id).order_by(MakerSwap.id)))


def reroute(trade: Trade, venues: Mapping[int, str], note: str) -> bool:
    """Move re-routed legs to the venue they filled on (a pool-less leg: Jupiter or a maker); True if any moved."""
    moved = False
    for leg in trade.legs:
        if leg.id in venues and venues[leg.id] != leg.venue and leg.pool_id is None:
            leg.venue, moved = venues[leg.id], True
    if moved and len(trade.legs) == 1:
        trade.venue = trade.legs[0].venue
    if note:  # what happened leads; the decision it changed follows
        lead = note[:1].upper() + note[1:]
        trade.explanation = f"{lead}. The decision before last look: {trade.explanation}" if trade.explanation \
            else lead
    return moved
