"""The TCA read side: a trade's `tca` object (API.md) and the analytics of shortfall, markouts and savings by
benchmark, aggregated in SQL over the trade_tca table (indexed by the trade's created_at)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core import tca
from core.codec import bps as _codec_bps
from ledger.tca_store import order_of
from models import EXECUTED

if TYPE_CHECKING:
    from decimal import Decimal

    from models import Trade


def _bps(value: Decimal | None) -> str | None:
    """bps to one decimal as the API shows them, never '-0.0'."""
    text = _codec_bps(value)
    return "0.0" if text == "-0.0" else text


def tca_json(t: Trade) -> dict[str, Any] | None:
    """A filled trade's TCA (null parts where not yet known; arrival mid and shortfall from the trade when it has no
    TCA row, e.g. bulk-loaded); None for a trade that did not fill."""
    if t.status not in EXECUTED:
        return None
    markouts: dict[str, Any] = {f"{h}s": None for h in tca.MARKOUT_HORIZONS_S}
    parts: dict[str, Any] = dict.fromkeys(tca.COMPONENTS)
    savings: dict[str, Any] = {"jupiter_one_shot": _bps(t.savings_bps), "best_single_venue": None, "twap": None}
    if t.arrival_mid is None:
        return {"arrival_mid": None, "shortfall_bps": None, "shortfall_atoms": None, "components_bps": parts,
                "markouts_bps": markouts, "savings_bps": savings}
    row = getattr(t, "tca", None)  # ledger.tca_store's backref, joined to the trade's own query
    if row is not None and row.shortfall_bps is not None:
        atoms, bps = row.shortfall_atoms, row.shortfall_bps
    else:
        atoms, bps = tca.shortfall(order_of(t), t.arrival_mid, t.in_amount_atoms, t.out_amount_atoms)
    if row is not None and row.timing_bps is not None:
        parts = {"impact": _bps(row.impact_bps), "fees": _bps(row.fees_bps), "spread": _bps(row.spread_bps),
                 "timing": _bps(row.timing_bps)}
        savings = {name: _bps(getattr(row, f"savings_{name}_bps")) for name in tca.BENCHMARKS}
        markouts = {f"{h}s": _bps(getattr(row, f"markout_{h}s_bps")) for h in tca.MARKOUT_HORIZONS_S}
    return {"arrival_mid": format(t.arrival_mid.normalize(), "f"),
            "shortfall_bps": _bps(bps), "shortfall_atoms": str(atoms), "components_bps": parts,
            "markouts_bps": markouts, "savings_bps": savings}
