"""The desk's default dealer pools (SOL against USDC and USDT) as engine params, seeded on a fresh database."""
from __future__ import annotations

from decimal import Decimal

from core import tokens
from core.otc_types import PoolParams


def _pool(name: str, quote: tokens.Token, base_bps: int, size_bps: int, max_sol: int, target_sol: int,
          target_quote: int, delay_ms: int, jitter_ms: int, skew: int = 15) -> PoolParams:
    """A SOL/stablecoin desk pool with the desk's common settings (alpha 1.5, 80 % vol, z 1, 2 bps fee, 10 %/h,
    a 15 bps inventory skew at full imbalance)."""
    sol = tokens.SOL
    return PoolParams(
        name=name, base_mint=sol.mint, quote_mint=quote.mint, base_decimals=sol.decimals,
        quote_decimals=quote.decimals, base_spread_bps=Decimal(base_bps), size_spread_bps=Decimal(size_bps),
        size_exponent=Decimal("1.5"), annual_vol_pct=Decimal(80), vol_z=Decimal(1), fee_bps=Decimal(2),
        min_trade_base_atoms=100 * 10**sol.decimals, max_trade_base_atoms=max_sol * 10**sol.decimals,
        target_base_atoms=target_sol * 10**sol.decimals, target_quote_atoms=target_quote * 10**quote.decimals,
        replenish_pct_per_hour=Decimal(10), execution_delay_ms=delay_ms, delay_jitter_ms=jitter_ms,
        quote_ttl_ms=15_000, inventory_skew_bps=Decimal(skew),
    )


DEFAULT_POOLS: tuple[PoolParams, ...] = (
    _pool("sol-usdc", tokens.USDC, 5, 60, 50_000, 150_000, 22_500_000, 1_500, 500),
    _pool("sol-usdt", tokens.USDT, 7, 80, 30_000, 80_000, 12_000_000, 2_000, 700),
)
