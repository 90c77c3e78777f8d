"""The daily level of the rollups: hourly rollup rows regrouped per UTC day (pure; ledger.rollups upserts them)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

DAY_S = 86_400
MAX = "slip_centi_bps_max"


def _sum(a: Any, b: Any) -> Any:
    """SQL SUM's rule for two values: NULL only if both are."""
    return b if a is None else a if b is None else a + b


def by_day(rows: list[dict[str, Any]], sums: Sequence[str], with_max: bool) -> list[dict[str, Any]]:
    """Hourly rollup rows regrouped per UTC day (hour_s becomes day_s): sums added, the slippage max kept."""
    days: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        day = {"day_s": row["hour_s"] // DAY_S * DAY_S, **{k: v for k, v in row.items() if k != "hour_s"}}
        key = tuple(v for k, v in day.items() if k not in sums and k != MAX)
        if (seen := days.get(key)) is None:
            days[key] = day
            continue
        for s in sums:
            seen[s] = _sum(seen[s], day[s])
        if with_max and day[MAX] is not None:
            seen[MAX] = day[MAX] if seen[MAX] is None else max(seen[MAX], day[MAX])
    return list(days.values())
