"""Read the simulated dealer pools of a pair in one query, as engine values, and end the read at once."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

import otc_engine
from ledger.inventory import pool_inventory, pool_params
from models import OTCPool, db


@dataclass(frozen=True, slots=True)
class PoolSnapshot:
    """A pool as the engine sees it: row id, venue, params and stored inventory (replenish it to `now` to quote)."""

    pool_id: int
    venue: str
    params: otc_engine.PoolParams
    inventory: otc_engine.Inventory

    def sells_base(self, input_mint: str) -> bool:
        """True when an order paying in input_mint sells this pool's base token."""
        return input_mint == self.params.base_mint


def pair_pools(mint_a: str, mint_b: str) -> list[PoolSnapshot]:
    """Every pool trading the pair {mint_a, mint_b}, in id order, from one query.

    The read transaction is ended before returning (rolled back: nothing was written), so no connection idles in a
    transaction while the caller asks venues outside for prices.
    """
    mints = (mint_a, mint_b)
    rows = db.session.scalars(select(OTCPool).where(OTCPool.base_mint.in_(mints), OTCPool.quote_mint.in_(mints),
                                                    OTCPool.base_mint != OTCPool.quote_mint)
                              .order_by(OTCPool.id)).all()
    found = [PoolSnapshot(r.id, r.venue, pool_params(r), pool_inventory(r)) for r in rows]
    db.session.rollback()
    return found
