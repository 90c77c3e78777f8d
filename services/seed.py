"""Database set-up: apply migrations and seed the default OTC pools, idempotently."""
from __future__ import annotations

from flask_migrate import upgrade
from sqlalchemy import select

import otc_engine
from core.desk_pools import DEFAULT_POOLS
from ledger.maker_tables import Maker
from models import OTCPool, db, utcnow

# The two simulated RFQ makers `make run` shows (served by the app at /sim/rfq/<name>, in-process as sim://<name>)
SIM_MAKERS = (("alpha", {"latency_ms": 40, "jitter_ms": 30, "reject_pct": 5}),
              ("beta", {"latency_ms": 80, "jitter_ms": 60, "reject_pct": 10, "stale_pct": 5}))


def pool_row(params: otc_engine.PoolParams) -> OTCPool:
    """A new OTCPool row with full inventory from the engine's pool parameters."""
    return OTCPool(
        name=params.name, base_mint=params.base_mint, quote_mint=params.quote_mint,
        base_spread_bps=params.base_spread_bps, size_spread_bps=params.size_spread_bps,
        size_exponent=params.size_exponent, annual_vol_pct=params.annual_vol_pct, vol_z=params.vol_z,
        fee_bps=params.fee_bps, min_trade_base_atoms=params.min_trade_base_atoms,
        max_trade_base_atoms=params.max_trade_base_atoms, target_base_atoms=params.target_base_atoms,
        target_quote_atoms=params.target_quote_atoms, replenish_pct_per_hour=params.replenish_pct_per_hour,
        execution_delay_ms=params.execution_delay_ms, delay_jitter_ms=params.delay_jitter_ms,
        quote_ttl_ms=params.quote_ttl_ms, active=params.active, inventory_skew_bps=params.inventory_skew_bps,
        base_atoms=params.target_base_atoms, quote_atoms=params.target_quote_atoms, inventory_at=utcnow(),
        initial_base_atoms=params.target_base_atoms, initial_quote_atoms=params.target_quote_atoms,
    )


def seed_pools(pools: tuple[otc_engine.PoolParams, ...] = DEFAULT_POOLS) -> int:
    """Insert the pools whose names are not there yet; return how many were added."""
    existing = set(db.session.scalars(select(OTCPool.name)))
    added = [pool_row(p) for p in pools if p.name not in existing]
    db.session.add_all(added)
    db.session.commit()
    return len(added)


def init_database() -> int:
    """Bring the schema to the latest migration and seed pools; return pools added."""
    upgrade()
    return seed_pools()


def seed_makers() -> int:
    """Insert the simulated RFQ makers whose names are not there yet; return how many were added."""
    existing = set(db.session.scalars(select(Maker.name)))
    added = [Maker(name=name, base_url=f"sim://{name}", enabled=True, timeout_ms=500, tokens=[],
                   sim_behaviour=behaviour) for name, behaviour in SIM_MAKERS if name not in existing]
    db.session.add_all(added)
    db.session.commit()
    return len(added)
