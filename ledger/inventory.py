"""Pool inventory moves, inside the caller's transaction: lock the row, replenish it to `now`, conditional UPDATE.

Every change of a pool's holdings goes through move() or move_legs(): it replenishes the row to `now` (adding the
replenished atoms to the cumulative replenished_* columns), applies signed deltas and refuses to go below zero. So for
each side inventory = initial + replenished + fills in − fills out, which `reconcile` checks.

Atomicity: SELECT ... FOR UPDATE on PostgreSQL (callers lock pools in id order, so split trades cannot deadlock),
and on every backend an UPDATE ... WHERE version = <version read>, retried when another writer got there first
(SQLite has no row locks: its writers are serialised by the database lock and the version check catches a stale read).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
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


def move(pool_id: int, base_delta_atoms: int, quote_delta_atoms: int, now: datetime, *,
         require_active: bool = False) -> None:
    """Replenish the locked pool to `now`, add the signed deltas (atoms) and store; FillRejected if a side goes < 0."""
    _move(pool_id, lambda _row: (base_delta_atoms, quote_delta_atoms), now, require_active=require_active)


def _move(pool_id: int, deltas: Callable[[OTCPool], tuple[int, int]], now: datetime, *,
          require_active: bool = False) -> None:
    """Lock the pool, replenish it to `now`, add deltas(locked row) (base, quote atoms) and store: 2 statements."""
    for _ in range(MAX_VERSION_RETRIES):
        row = db.session.execute(
            select(OTCPool).where(OTCPool.id == pool_id).with_for_update().execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if row is None:
            raise FillRejected("POOL_UNKNOWN", f"pool {pool_id} does not exist; nothing was executed")
        if require_active and not row.active:
            raise FillRejected("POOL_INACTIVE", f"{row.venue} was deactivated before the trade executed")
        base_delta_atoms, quote_delta_atoms = deltas(row)
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


def move_legs(legs: Iterable[tuple[int, int]], input_mint: str, now: datetime, *, received: bool, sign: int,
              require_active: bool = False) -> None:
    """Move each (pool_id, atoms) leg on the side its pool received (or paid), × sign: pools in id order (a fixed
    lock order), one lock and one UPDATE per pool, the side told by the locked row's base mint (no extra read)."""
    per_pool: dict[int, int] = {}
    for pool_id, atoms in legs:
        per_pool[pool_id] = per_pool.get(pool_id, 0) + sign * atoms

    def deltas(row: OTCPool) -> tuple[int, int]:
        atoms = per_pool[row.id]
        return (atoms, 0) if (input_mint == row.base_mint) == received else (0, atoms)

    for pool_id in sorted(per_pool):
        _move(pool_id, deltas, now, require_active=require_active)
