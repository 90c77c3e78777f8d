"""Liquidity alerts (issue 16): a dealer pool side below its low-water mark, an RFQ maker suspended for a cool-down.

One function computes them for the dashboard and the ticket; the pages only render the list. A pool's reference
level is its replenishment target (`target_base_atoms` / `target_quote_atoms`): the inventory the dealer restores
toward and the pools page's gauges measure against. Its holdings are replenished to `now` first, as the next quote
sees them.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any

import otc_engine
from core.tokens import format_ui, token_by_mint
from core.units import iso_z
from ledger.inventory import pool_inventory, pool_params
from ledger.maker_tables import Maker
from ledger.pools import PoolSnapshot
from models import OTCPool
from read import analytics
from services import makers


def side_pct(held_atoms: int, target_atoms: int) -> Decimal:
    """held / target in percent, rounded down to 0.1 (0 when there is no target)."""
    if target_atoms <= 0:
        return Decimal(0)
    return (Decimal(held_atoms * 100) / target_atoms).quantize(Decimal("0.1"), rounding=ROUND_DOWN)


def is_low(held_atoms: int, target_atoms: int, low_water_pct: Decimal) -> bool:
    """True when a side holds strictly less than low_water_pct of its target (exactly at the mark is not low)."""
    return target_atoms > 0 and held_atoms * 100 < low_water_pct * target_atoms


def pool_alerts(pools: Iterable[OTCPool], now: datetime, low_water_pct: Decimal) -> list[dict[str, Any]]:
    """One alert per active pool side below its low-water mark, holdings replenished to `now`."""
    return snapshot_alerts([PoolSnapshot(p.id, p.venue, pool_params(p), pool_inventory(p)) for p in pools if p.active],
                           now, low_water_pct)


def snapshot_alerts(pools: Iterable[PoolSnapshot], now: datetime, low_water_pct: Decimal) -> list[dict[str, Any]]:
    """pool_alerts() of pools already read as engine values (ledger.pools.pair_pools: the quote's own read)."""
    found = []
    for pool in pools:
        params = pool.params
        if not params.active:
            continue
        inv = otc_engine.replenish(params, pool.inventory, now)
        for mint, held, target in ((params.base_mint, inv.base_atoms, params.target_base_atoms),
                                   (params.quote_mint, inv.quote_atoms, params.target_quote_atoms)):
            if not is_low(held, target, low_water_pct):
                continue
            token = token_by_mint(mint)
            pct = side_pct(held, target)
            found.append({
                "kind": "pool_low", "severity": "danger" if held == 0 else "warning", "venue": pool.venue,
                "symbol": token.symbol, "mint": mint, "held_atoms": str(held), "target_atoms": str(target),
                "pct": str(pct), "low_water_pct": str(low_water_pct),
                "message": f"{pool.venue} holds {format_ui(held, token.decimals, 0)} {token.symbol}, {pct} % of its "
                           f"{format_ui(target, token.decimals, 0)} target (low water {low_water_pct} %): "
                           f"orders paying out {token.symbol} route around it until it replenishes"})
    return found


def maker_alerts(rows: Iterable[Maker], now: datetime) -> list[dict[str, Any]]:
    """One alert per RFQ maker suspended (cooling down) at `now`; a maker an admin disabled is not an alert."""
    return [{"kind": "maker_suspended", "severity": "warning", "venue": m.venue, "until": iso_z(m.suspended_until),
             "suspensions": m.suspensions, "last_error": m.last_error,
             "message": f"{m.venue} is cooling down until {m.suspended_until:%H:%M:%S} UTC after failing round after "
                        f"round (last error: {m.last_error or 'none recorded'}; suspension {m.suspensions}): it is "
                        "not asked for quotes until then"}
            for m in rows if makers.state_of(m, now) == "suspended"]


def desk_alerts(now: datetime, low_water_pct: Decimal, pair: tuple[str, str] | None = None,
                pools: list[OTCPool] | None = None) -> list[dict[str, Any]]:
    """Every liquidity alert at `now`; with `pair` (two mints) only the pools of that pair and the makers that may
    quote it (listing both mints, or no token list yet). `pools`: the pool rows when the caller has read them."""
    pools = analytics.pools() if pools is None else pools
    rows = makers.all_makers()
    if pair is not None:
        wanted = set(pair)
        pools = [p for p in pools if {p.base_mint, p.quote_mint} == wanted]
        rows = pair_makers(rows, pair)
    return pool_alerts(pools, now, low_water_pct) + maker_alerts(rows, now)


def pair_makers(rows: Iterable[Maker], pair: tuple[str, str]) -> list[Maker]:
    """The makers that may quote a pair (two mints): listing both mints, or no token list yet."""
    wanted = set(pair)
    return [m for m in rows if not m.tokens or wanted <= set(m.tokens)]
