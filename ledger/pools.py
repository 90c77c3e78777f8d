"""Read the simulated dealer pools of a pair in one query, as engine values, and end the read at once."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, select

import otc_engine
from core.venue import Venue
from ledger.inventory import pool_inventory, pool_params
from models import OTCPool, db

# The columns a pool's engine params are built from (ledger.inventory.pool_params), and those params by their exact
# values: an edited pool is a new key, so every worker prices an edit at once; a pure memo, bounded.
PARAM_COLUMNS = ("name", "base_mint", "quote_mint", "base_spread_bps", "size_spread_bps", "size_exponent",
                 "annual_vol_pct", "vol_z", "fee_bps", "min_trade_base_atoms", "max_trade_base_atoms",
                 "target_base_atoms", "target_quote_atoms", "replenish_pct_per_hour", "execution_delay_ms",
                 "delay_jitter_ms", "quote_ttl_ms", "active", "inventory_skew_bps")
MAX_MEMO = 512
_TABLE = OTCPool.__table__
# Built once (every quote runs it): the pools whose two mints are the pair's, in id order.
_PAIR_POOLS = (select(_TABLE).where(_TABLE.c.base_mint.in_(bindparam("mints", expanding=True)),
                                    _TABLE.c.quote_mint.in_(bindparam("mints", expanding=True)),
                                    _TABLE.c.base_mint != _TABLE.c.quote_mint).order_by(_TABLE.c.id))
_params_by_values: dict[tuple[Any, ...], otc_engine.PoolParams] = {}


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
    rows = db.session.execute(_PAIR_POOLS, {"mints": (mint_a, mint_b)}).all()  # plain rows: no ORM objects
    found = [PoolSnapshot(r.id, str(Venue.otc(r.name)), params_of(r), pool_inventory(r))  # type: ignore[arg-type]
             for r in rows]
    db.session.rollback()
    return found


def params_of(row: Any) -> otc_engine.PoolParams:
    """pool_params(row), memoised on the row's exact configuration values (Decimals by their text, so 1.0 and 1
    stay apart); building and validating them costs more than the read."""
    key = tuple(str(v) if isinstance(v, Decimal) else v for v in (getattr(row, c) for c in PARAM_COLUMNS))
    found = _params_by_values.get(key)
    if found is None:
        if len(_params_by_values) >= MAX_MEMO:
            _params_by_values.clear()
        found = _params_by_values[key] = pool_params(row)
    return found
