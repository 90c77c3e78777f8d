"""Chart series for the analytics page and /api/v1/analytics/*: grouped in SQL, a few hundred points at most.

Money stays integer atoms (USD with 6 decimals) carried as strings; bps are decimal strings. Time buckets are
computed in SQL from epoch seconds, so SQLite and PostgreSQL give the same buckets; empty buckets are filled
with zeros here so a category axis stays evenly spaced.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, case, cast, func, select
from sqlalchemy.sql.elements import ColumnElement

from core.units import bps_text, iso_z
from ledger.rollups import SIZE_EDGES_USD, leg_usd
from models import Quote, Trade, TradeLeg, db
from read import rollup_reader
from read.window import Window, bucket_of, in_window

SIZE_LABELS = ("< $10k", "$10k–100k", "$100k–1M", "$1M–5M", "≥ $5M")


def _rollups() -> Any:
    """The rollup reader when hourly rollups serve the reads (ANALYTICS_ROLLUPS, default on), else None."""
    return rollup_reader if rollup_reader.enabled() else None


def savings_series(w: Window) -> list[dict[str, Any]]:
    """Per bucket: filled trades, USD volume and savings, savings bps, and savings cumulated over the window."""
    if (fast := _rollups()) is not None:
        rows = fast.savings_rows(w)
    else:
        b = bucket_of(Trade.created_at, w)
        rows = {int(i): (int(n), int(vol), int(saved)) for i, n, vol, saved in db.session.execute(
            select(b, func.count(), func.coalesce(func.sum(Trade.notional_usd_atoms), 0),
                   func.coalesce(func.sum(Trade.savings_usd_atoms), 0)).where(*in_window(w)).group_by(b)).all()}
    out, running = [], 0
    for i, start in enumerate(w.starts()):
        n, vol, saved = rows.get(i, (0, 0, 0))
        running += saved
        out.append({"t": iso_z(start), "trades": n, "volume_usd_atoms": str(vol), "savings_usd_atoms": str(saved),
                    "savings_bps": bps_text(saved, vol), "cumulative_savings_usd_atoms": str(running)})
    return out


def size_buckets(w: Window) -> list[dict[str, Any]]:
    """Per USD-notional bucket: trades, volume, savings, savings bps, share routed off Jupiter, average cost."""
    edges = [e * 10**6 for e in SIZE_EDGES_USD]
    idx = case(*[(Trade.notional_usd_atoms < edge, i - 1) for i, edge in enumerate(edges) if i > 0],
               else_=len(edges) - 1)
    rows: dict[int, Any] = {int(i): r for i, *r in db.session.execute(
        select(idx, func.count(), func.coalesce(func.sum(Trade.notional_usd_atoms), 0),
               func.coalesce(func.sum(Trade.savings_usd_atoms), 0),
               func.sum(case((Trade.venue != "jupiter", 1), else_=0)), func.avg(Trade.cost_bps))
        .where(*in_window(w)).group_by(idx)).all()} if (fast := _rollups()) is None else fast.size_rows(w)
    out = []
    for i, label in enumerate(SIZE_LABELS):
        n, vol, saved, otc, cost = rows.get(i, (0, 0, 0, 0, None))
        out.append({"bucket": label, "min_usd": str(SIZE_EDGES_USD[i]), "trades": int(n),
                    "volume_usd_atoms": str(int(vol)), "savings_usd_atoms": str(int(saved)),
                    "savings_bps": bps_text(int(saved), int(vol)),
                    "otc_share_pct": f"{Decimal(int(otc or 0) * 100) / n:.1f}" if n else "0.0",
                    "avg_cost_bps": _decimal_text(cost)})
    return out


def _decimal_text(value: Any, places: str = "0.1") -> str | None:
    """An SQL average (Decimal on PostgreSQL, float on SQLite) as a rounded decimal string, display only."""
    return None if value is None else str(Decimal(str(value)).quantize(Decimal(places)))


def _centi_bps_text(value: Any) -> str | None:
    """Hundredths of a bp (an SQL aggregate) as bps with two decimals, display only."""
    return None if value is None else str((Decimal(str(value)) / 100).quantize(Decimal("0.01")))


def route_mix_series(w: Window) -> dict[str, Any]:
    """Per bucket and venue, from the legs (a split counts on each of its venues): legs filled and USD volume.

    Venues are sorted jupiter first; `active` lists the buckets that have fills.
    """
    b = bucket_of(Trade.created_at, w)
    rows: Any = db.session.execute(
        select(b, TradeLeg.venue, func.count(), func.coalesce(func.sum(leg_usd()), 0))
        .select_from(Trade).join(TradeLeg, TradeLeg.trade_id == Trade.id).where(*in_window(w))
        .group_by(b, TradeLeg.venue)).all() if (fast := _rollups()) is None else fast.route_mix_rows(w)
    venues = sorted({v for _, v, _, _ in rows}, key=lambda v: (v != "jupiter", v))
    cells = {(int(i), v): (int(n), int(Decimal(str(vol)))) for i, v, n, vol in rows}
    starts = w.starts()
    return {"t": [iso_z(s) for s in starts], "active": sorted({i for i, _ in cells}),
            "venues": [{"venue": v,
                        "legs": [cells.get((i, v), (0, 0))[0] for i in range(len(starts))],
                        "volume_usd_atoms": [str(cells.get((i, v), (0, 0))[1]) for i in range(len(starts))]}
                       for v in venues]}


def _quoted_atoms(key: str) -> ColumnElement[Any]:
    """An amount of a stored quote's decision (JSON string of atoms) as an SQL number."""
    return cast(Quote.payload[("decision", key)].as_string(), Numeric(38, 0))


def slippage_series(w: Window) -> list[dict[str, Any]]:
    """Per bucket: Jupiter's quoted price impact (avg bps, all fills) and realised slippage vs the firm quote.

    Realised slippage covers trades executed from a stored quote: ExactIn (quoted out − filled out)/quoted out,
    ExactOut (paid in − quoted in)/quoted in, in bps; positive means worse than quoted.
    """
    if (fast := _rollups()) is not None:
        impact, realised = fast.slippage_rows(w)
    else:
        b = bucket_of(Trade.created_at, w)
        impact = dict(db.session.execute(
            select(b, func.avg(Trade.price_impact_bps)).where(*in_window(w), Trade.price_impact_bps.is_not(None))
            .group_by(b)).all())
        q_out, q_in = _quoted_atoms("out_amount_atoms"), _quoted_atoms("in_amount_atoms")
        # In hundredths of a bp, so SQLite's integer division keeps two decimals.
        slip = case((Trade.swap_mode == "ExactIn", (q_out - Trade.out_amount_atoms) * 1_000_000 / q_out),
                    else_=(Trade.in_amount_atoms - q_in) * 1_000_000 / q_in)
        realised = {int(i): (n, avg, worst) for i, n, avg, worst in db.session.execute(
            select(b, func.count(), func.avg(slip), func.max(slip)).join(Quote, Quote.id == Trade.quote_id)
            .where(*in_window(w)).group_by(b)).all()}
    out = []
    for i, start in enumerate(w.starts()):
        n, avg, worst = realised.get(i, (0, None, None))
        out.append({"t": iso_z(start), "quoted_price_impact_bps": _decimal_text(impact.get(i)),
                    "quote_fills": int(n), "realised_slippage_bps": _centi_bps_text(avg),
                    "worst_slippage_bps": _centi_bps_text(worst)})
    return out


def volume_by_pair(w: Window) -> list[dict[str, Any]]:
    """Per pair and direction (input → output): filled trades, USD volume and savings, largest first."""
    rows: Any = db.session.execute(
        select(Trade.pair, Trade.input_symbol, Trade.output_symbol, func.count(),
               func.coalesce(func.sum(Trade.notional_usd_atoms), 0),
               func.coalesce(func.sum(Trade.savings_usd_atoms), 0))
        .where(*in_window(w)).group_by(Trade.pair, Trade.input_symbol, Trade.output_symbol)).all() \
        if (fast := _rollups()) is None else fast.pair_rows(w)
    out = [{"pair": pair, "direction": f"{i_sym}→{o_sym}", "trades": int(n), "volume_usd_atoms": str(int(vol)),
            "savings_usd_atoms": str(int(saved)), "savings_bps": bps_text(int(saved), int(vol))}
           for pair, i_sym, o_sym, n, vol, saved in rows]
    return sorted(out, key=lambda r: (-int(r["volume_usd_atoms"]), r["pair"], r["direction"]))


def all_series(w: Window) -> dict[str, Any]:
    """Every analytics chart's data for one window (the cost-vs-size curve is fetched separately)."""
    return {"window": {"since": iso_z(w.since), "until": iso_z(w.until), "bucket_s": w.bucket_s, "label": w.label},
            "savings": savings_series(w), "size_buckets": size_buckets(w), "route_mix": route_mix_series(w),
            "slippage": slippage_series(w), "volume_by_pair": volume_by_pair(w)}
