"""Pool inventory moves, inside the caller's transaction: lock the row, replenish it to `now`, conditional UPDATE.

Every change of a pool's holdings goes through move(): it replenishes the row to `now` (adding the replenished atoms
to the cumulative replenished_* columns), applies signed deltas and refuses to go below zero. So for each side
inventory = initial + replenished + fills in − fills out, which `reconcile` checks.

Atomicity: SELECT ... FOR UPDATE on PostgreSQL (callers lock pools in id order, so split trades cannot deadlock),
and on every backend an UPDATE ... WHERE version = <version read>, retried when another writer got there first
(SQLite has no row locks: its writers are serialised by the database lock and the version check catches a stale read).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, update

import otc_engine
from core.tokens import token_by_mint
from models import OTCPool, db

MAX_VERSION_RETRIES = 5


class FillRejected(Exception):
    """A trade could not be applied; nothing moved. `code` is the API error code."""

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(message)


def pool_params(row: OTCPool) -> otc_engine.PoolParams:
    """The engine's view of a pool row."""
    return otc_engine.PoolParams(
        name=row.name, base_mint=row.base_mint, quote_mint=row.quote_mint,
        base_decimals=token_by_mint(row.base_mint).decimals, quote_decimals=token_by_mint(row.quote_mint).decimals,
        base_spread_bps=Decimal(row.base_spread_bps), size_spread_bps=Decimal(row.size_spread_bps),
        size_exponent=Decimal(row.size_exponent), annual_vol_pct=Decimal(row.annual_vol_pct),
        vol_z=Decimal(row.vol_z), fee_bps=Decimal(row.fee_bps), min_trade_base_atoms=row.min_trade_base_atoms,
        max_trade_base_atoms=row.max_trade_base_atoms, target_base_atoms=row.target_base_atoms,
        target_quote_atoms=row.target_quote_atoms, replenish_pct_per_hour=Decimal(row.replenish_pct_per_hour),
        execution_delay_ms=row.execution_delay_ms, delay_jitter_ms=row.delay_jitter_ms,
        quote_ttl_ms=row.quote_ttl_ms, active=row.active, inventory_skew_bps=Decimal(row.inventory_skew_bps),
    )


def pool_inventory(row: OTCPool) -> otc_engine.Inventory:
    """The engine's view of a pool row's stored inventory."""
    return otc_engine.Inventory(base_atoms=row.base_atoms, quote_atoms=row.quote_atoms, as_of=row.inventory_at)


def pool_id_for(venue: str) -> int | None:
    """The id of the pool behind an `otc:<name>` venue, or None."""
    if not venue.startswith("otc:"):
        return None
    return db.session.scalar(select(OTCPool.id).where(OTCPool.name == venue.removeprefix("otc:")))


def base_mints(pool_ids: set[int]) -> dict[int, str]:
    """Each pool's base mint (never changes, so no lock is needed to read it)."""
    if not pool_ids:
        return {}
    return dict(db.session.execute(select(OTCPool.id, OTCPool.base_mint).where(OTCPool.id.in_(pool_ids))).all())


def move(pool_id: int, base_delta_atoms: int, quote_delta_atoms: int, now: datetime, *,
         require_active: bool = False) -> None:
    """Replenish the locked pool to `now`, add the signed deltas (atoms) and store; FillRejected if a side goes < 0."""
    for _ in range(MAX_VERSION_RETRIES):
        row = db.session.execute(
            select(OTCPool).where(OTCPool.id == pool_id).with_for_update().execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if row is None:
            raise FillRejected("POOL_UNKNOWN", f"pool {pool_id} does not exist; nothing was executed")
        if require_active and not row.active:
            raise FillRejected("POOL_INACTIVE", f"{row.venue} was deactivated before the trade executed")
        inv = otc_engine.replenish(pool_params(row), pool_inventory(row), now)
        base, quote = inv.base_atoms + base_delta_atoms, inv.quote_atoms + quote_delta_atoms
        if base < 0 or quote < 0:
            raise FillRejected("INSUFFICIENT_LIQUIDITY",
                               f"{row.venue} no longer has the inventory for this fill; nothing was executed")
        result = db.session.execute(
            update(OTCPool).where(OTCPool.id == pool_id, OTCPool.version == row.version).values(
                base_atoms=base, quote_atoms=quote, inventory_at=max(now, row.inventory_at),
                replenished_base_atoms=OTCPool.replenished_base_atoms + (inv.base_atoms - row.base_atoms),
                replenished_quote_atoms=OTCPool.replenished_quote_atoms + (inv.quote_atoms - row.quote_atoms),
                version=OTCPool.version + 1,
            ).execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            return
    raise FillRejected("CONTENTION", "the pool was too busy to lock; nothing was executed, please retry")


def leg_deltas(legs: Iterable[tuple[int, int]], input_mint: str, *, received: bool,
               sign: int) -> dict[int, tuple[int, int]]:
    """Per pool (base, quote) atom deltas: each (pool_id, atoms) on the side the pool received (or paid), × sign."""
    legs = list(legs)
    mints = base_mints({pool_id for pool_id, _ in legs})
    moves: dict[int, tuple[int, int]] = {}
    for pool_id, atoms in legs:
        on_base = (input_mint == mints[pool_id]) == received
        base, quote = moves.get(pool_id, (0, 0))
        moves[pool_id] = (base + sign * atoms, quote) if on_base else (base, quote + sign * atoms)
    return moves


def move_all(moves: Mapping[int, tuple[int, int]], now: datetime, *, require_active: bool = False) -> None:
    """Apply per-pool deltas in pool id order (a fixed lock order: split trades never deadlock)."""
    for pool_id in sorted(moves):
        move(pool_id, *moves[pool_id], now, require_active=require_active)
