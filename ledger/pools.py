"""Read the simulated dealer pools of a pair in one query, as engine values, and end the read at once."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

import otc_engine
from core.venue import Venue
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
    """Every pool trading the pair {mint_a, mint_b}, in id order, from one query (plain rows: no ORM objects).

    The read transaction is ended before returning (rolled back: nothing was written), so no connection idles in a
    transaction while the caller asks venues outside for prices.
    """
    mints, table = (mint_a, mint_b), OTCPool.__table__
    rows = db.session.execute(select(table).where(table.c.base_mint.in_(mints), table.c.quote_mint.in_(mints),
                                                  table.c.base_mint != table.c.quote_mint)
                              .order_by(table.c.id)).all()  # plain rows: no ORM objects built for a read
    found = [PoolSnapshot(r.id, str(Venue.otc(r.name)), pool_params(r), pool_inventory(r))  # type: ignore[arg-type]
             for r in rows]
    db.session.rollback()
    return found
