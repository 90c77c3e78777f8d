"""Maker scorecards: per maker and period, how it quoted, won and filled after last look (read-only SQL)."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from core.tca import MARKOUT_HORIZONS_S
from ledger.maker_tables import MakerRequest, MakerSwap
from ledger.tca_store import TradeTca
from models import EXECUTED, Trade, db

PERIODS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30),
           "all": None}
LATENCY_SAMPLE = 10_000  # the newest answers a percentile is computed over


def _percentile(sorted_ms: list[int], pct: int) -> int | None:
    """The nearest-rank percentile of sorted values, or None without any."""
    if not sorted_ms:
        return None
    rank = max(1, -(-pct * len(sorted_ms) // 100))
    return sorted_ms[rank - 1]


def since_of(period: str, now: datetime) -> datetime | None:
    """The start of a named period (None: all time); ValueError for an unknown name."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}")
    span = PERIODS[period]
    return None if span is None else now - span


def scorecard(maker_id: int, since: datetime | None) -> dict[str, Any]:
    """Quote requests, answers, answer latency p50/p95, wins, fill rate after last look, reject reasons, refusals
    by code and the average improvement vs the best other venue at decision time (bps), since `since`."""
    req = select(MakerRequest).where(MakerRequest.maker_id == maker_id)
    swaps = select(MakerSwap).where(MakerSwap.maker_id == maker_id)
    if since is not None:
        req, swaps = req.where(MakerRequest.at >= since), swaps.where(MakerSwap.at >= since)
    r = req.subquery()
    outcomes = dict(db.session.execute(select(r.c.outcome, func.count()).group_by(r.c.outcome)).all())
    latencies = sorted(db.session.scalars(
        select(r.c.latency_ms).where(r.c.outcome == "quoted", r.c.latency_ms.is_not(None))
        .order_by(r.c.id.desc()).limit(LATENCY_SAMPLE)))
    wins, improvement = db.session.execute(select(func.count(), func.avg(r.c.improvement_bps))
                                           .where(r.c.won.is_(True))).one()
    s = swaps.subquery()
    states = dict(db.session.execute(select(s.c.state, func.count()).group_by(s.c.state)).all())
    reasons = dict(db.session.execute(select(s.c.reason, func.count()).where(s.c.state == "rejected")
                                      .group_by(s.c.reason)).all())
    sent = states.get("accepted", 0) + states.get("rejected", 0)
    answered = outcomes.get("quoted", 0)
    return {
        "quote_requests": sum(outcomes.values()), "answers": answered,
        "answer_rate_pct": _pct(answered, sum(outcomes.values())),
        "answer_latency_p50_ms": _percentile(latencies, 50), "answer_latency_p95_ms": _percentile(latencies, 95),
        "refusals": {k: v for k, v in sorted(outcomes.items()) if k != "quoted"},
        "wins": wins, "swaps": sent, "accepted": states.get("accepted", 0),
        "fill_rate_pct": _pct(states.get("accepted", 0), sent),
        "reject_reasons": {str(k): v for k, v in sorted(reasons.items(), key=lambda kv: -kv[1])},
        "rerouted": db.session.scalar(select(func.count()).select_from(s).where(s.c.rerouted_to.is_not(None))),
        "avg_improvement_bps": None if improvement is None else str(Decimal(improvement).quantize(Decimal("0.01"))),
        "markouts": markouts(maker_id, since),
    }


def markouts(maker_id: int, since: datetime | None) -> dict[str, Any]:
    """The average markout (bps of the trade's arrival value, 2 decimals, half-even) at each horizon over the trades
    this maker filled a leg of (accepted at last look) since `since`, and how many trades each average is over.

    A markout is the reference price's move after the fill (core.tca.markout_bps): negative means the price moved
    against the desk after trading with this maker (adverse selection); a horizon not yet measured is skipped."""
    cols = [getattr(TradeTca, f"markout_{h}s_bps") for h in MARKOUT_HORIZONS_S]
    traded = select(MakerSwap.trade_id).where(MakerSwap.maker_id == maker_id, MakerSwap.state == "accepted",
                                              MakerSwap.trade_id.is_not(None))
    if since is not None:
        traded = traded.where(MakerSwap.at >= since)
    row = db.session.execute(
        select(func.count(TradeTca.trade_id), *(func.avg(c) for c in cols), *(func.count(c) for c in cols))
        .join(Trade, Trade.id == TradeTca.trade_id)
        .where(TradeTca.trade_id.in_(traded.distinct()), Trade.status.in_(EXECUTED))).one()
    n = len(cols)
    out: dict[str, Any] = {"trades": int(row[0])}
    for i, h in enumerate(MARKOUT_HORIZONS_S):
        avg, count = row[1 + i], int(row[1 + n + i])
        out[f"{h}s_bps"] = None if avg is None else str(Decimal(avg).quantize(Decimal("0.01")))
        out[f"{h}s_trades"] = count
    return out


def _pct(part: int, whole: int) -> str | None:
    """part/whole as a percentage with one decimal, or None when whole is 0."""
    return None if not whole else str((Decimal(part) * 100 / whole).quantize(Decimal("0.1")))
