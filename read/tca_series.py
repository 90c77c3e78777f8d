"""TCA analytics: savings against a chosen benchmark, shortfall by trade size, markout curves by venue.

Aggregated in SQL over trade_tca joined to its filled trades, in the analytics window (trade_tca.created_at is the
trade's, indexed); not rolled up. Money is USD atoms as strings; bps averages are notional-weighted, display only.
Trades without a TCA row (filled before it existed, or bulk-loaded) count no saving against best single venue or
TWAP; the Jupiter one-shot figures are the trades' own (read/series.py, on the rollups).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, case, cast, func, select

from core import tca
from core.units import bps_text, iso_z
from ledger.rollups import size_bucket
from ledger.tca_store import TradeTca
from models import EXECUTED, Trade, db
from read.series import SIZE_LABELS
from read.window import Window, bucket_of

DEFAULT_BENCHMARK = "best_single_venue"
BENCHMARK_LABELS = {"best_single_venue": "best single venue", "jupiter_one_shot": "Jupiter one-shot",
                    "twap": "TWAP"}


def benchmark_of(text: str | None) -> str:
    """The benchmark a request names (?benchmark=), default best single venue; ValueError for an unknown one."""
    if not text:
        return DEFAULT_BENCHMARK
    if text not in tca.BENCHMARKS:
        raise ValueError(f"benchmark must be one of {', '.join(tca.BENCHMARKS)}")
    return text


def _where(w: Window) -> list[Any]:
    """Filled trades with TCA inside the window."""
    return [Trade.status.in_(EXECUTED), TradeTca.created_at >= w.since, TradeTca.created_at < w.until]


def _joined(*cols: Any) -> Any:
    """SELECT cols FROM trade_tca JOIN trades."""
    return select(*cols).select_from(TradeTca).join(Trade, Trade.id == TradeTca.trade_id)


def _weighted(col: Any) -> Any:
    """Σ col × notional over the rows where col is known (SQL number)."""
    return func.sum(case((col.is_not(None), cast(col, Numeric(20, 4)) * Trade.notional_usd_atoms)))


def _known_volume(col: Any) -> Any:
    """Σ notional over the rows where col is known."""
    return func.coalesce(func.sum(case((col.is_not(None), Trade.notional_usd_atoms), else_=0)), 0)


def _avg_text(total: Any, volume: Any, places: str = "0.1") -> str | None:
    """A weighted average as a decimal string, None without volume."""
    if total is None or not volume:
        return None
    return str((Decimal(str(total)) / int(volume)).quantize(Decimal(places)))


def kpis(w: Window) -> dict[str, Any]:
    """Over the window: trades with TCA, USD saved and bps of volume against each benchmark, average shortfall."""
    cols = [getattr(TradeTca, f"savings_{b}_usd_atoms") for b in tca.BENCHMARKS]
    row = db.session.execute(_joined(
        func.count(), *[func.coalesce(func.sum(c), 0) for c in cols], *[_known_volume(c) for c in cols],
        _weighted(TradeTca.shortfall_bps), _known_volume(TradeTca.shortfall_bps)).where(*_where(w))).one()
    n, saved, vols = int(row[0]), row[1:4], row[4:7]
    return {"trades": n, "shortfall_bps": _avg_text(row[7], row[8]),
            "savings": {b: {"usd_atoms": str(int(s)), "bps": bps_text(int(s), int(v)), "label": BENCHMARK_LABELS[b]}
                        for b, s, v in zip(tca.BENCHMARKS, saved, vols, strict=True)}}


def with_benchmark(series: dict[str, Any], w: Window, benchmark: str) -> dict[str, Any]:
    """The chart series with their savings (per bucket, per size, per pair) against `benchmark`."""
    out = {**series, "benchmark": benchmark, "benchmark_label": BENCHMARK_LABELS[benchmark]}
    if benchmark == "jupiter_one_shot":
        return out
    saved = getattr(TradeTca, f"savings_{benchmark}_usd_atoms")
    total = func.coalesce(func.sum(saved), 0)
    b = bucket_of(TradeTca.created_at, w)
    per_bucket = dict(db.session.execute(_joined(b, total).where(*_where(w)).group_by(b)).all())
    running, points = 0, []
    for i, p in enumerate(series["savings"]):
        s = int(per_bucket.get(i, 0))
        running += s
        points.append({**p, "savings_usd_atoms": str(s), "savings_bps": bps_text(s, int(p["volume_usd_atoms"])),
                       "cumulative_savings_usd_atoms": str(running)})
    idx = size_bucket()
    per_size = dict(db.session.execute(_joined(idx, total).where(*_where(w)).group_by(idx)).all())
    sizes = [{**r, "savings_usd_atoms": str(int(per_size.get(i, 0))),
              "savings_bps": bps_text(int(per_size.get(i, 0)), int(r["volume_usd_atoms"]))}
             for i, r in enumerate(series["size_buckets"])]
    keys = (Trade.pair, Trade.input_symbol, Trade.output_symbol)
    per_pair = {(p, i, o): int(s) for p, i, o, s in db.session.execute(
        _joined(*keys, total).where(*_where(w)).group_by(*keys)).all()}
    pairs = []
    for r in series["volume_by_pair"]:
        i_sym, o_sym = r["direction"].split("→")
        s = per_pair.get((r["pair"], i_sym, o_sym), 0)
        pairs.append({**r, "savings_usd_atoms": str(s), "savings_bps": bps_text(s, int(r["volume_usd_atoms"]))})
    return {**out, "savings": points, "size_buckets": sizes, "volume_by_pair": pairs}


def shortfall_by_size(w: Window) -> list[dict[str, Any]]:
    """Per USD-notional bucket: trades with TCA, notional-weighted shortfall and its four components (bps)."""
    idx = size_bucket()
    parts = [TradeTca.impact_bps, TradeTca.fees_bps, TradeTca.spread_bps, TradeTca.timing_bps]
    rows = {int(r[0]): r[1:] for r in db.session.execute(_joined(
        idx, func.count(), _weighted(TradeTca.shortfall_bps), _known_volume(TradeTca.shortfall_bps),
        *[_weighted(c) for c in parts]).where(*_where(w), TradeTca.shortfall_bps.is_not(None)).group_by(idx)).all()}
    out = []
    for i, label in enumerate(SIZE_LABELS):
        n, short, vol, *comps = rows.get(i, (0, None, 0, None, None, None, None))
        out.append({"bucket": label, "trades": int(n), "shortfall_bps": _avg_text(short, vol),
                    "components_bps": {name: _avg_text(c, vol) for name, c in zip(tca.COMPONENTS, comps,
                                                                                  strict=True)}})
    return out


def markouts_by_venue(w: Window) -> dict[str, Any]:
    """Per trade venue (a split counts as `split`): trades with markouts, notional-weighted markout bps per horizon."""
    cols = [getattr(TradeTca, f"markout_{h}s_bps") for h in tca.MARKOUT_HORIZONS_S]
    rows = db.session.execute(_joined(
        Trade.venue, func.count(TradeTca.markout_1s_bps), *[_weighted(c) for c in cols],
        *[_known_volume(c) for c in cols]).where(*_where(w)).group_by(Trade.venue).order_by(Trade.venue)).all()
    k = len(cols)
    venues = [{"venue": r[0], "trades": int(r[1]),
               "markout_bps": [_avg_text(r[2 + j], r[2 + k + j], "0.01") for j in range(k)]}
              for r in rows if int(r[1])]
    venues.sort(key=lambda v: (v["venue"] != "jupiter", v["venue"]))
    return {"horizons": [f"{h}s" for h in tca.MARKOUT_HORIZONS_S], "venues": venues}


def all_tca(w: Window) -> dict[str, Any]:
    """The TCA charts' data of one window."""
    return {"window": {"since": iso_z(w.since), "until": iso_z(w.until)}, "kpis": kpis(w),
            "shortfall_by_size": shortfall_by_size(w), "markouts_by_venue": markouts_by_venue(w)}
