"""The simulated DEX's pool table: each pair's AMM pools with fee, virtual depth and price range.

Pure data. Depths are calibrated so SOL/USDC impact is ~0.05 % at 1,000 SOL and several % at 100,000 SOL.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from core.tokens import JUP, MSOL, SOL, USDC, USDT

FULL_RANGE = Decimal(100)  # "full-range" pools quote while their price stays within [mid/100, mid·100]


@dataclass(frozen=True, slots=True)
class PoolSpec:
    """A simulated AMM pool: key, label, pair, fee (bps), virtual depth (USD per side at mid), price range factor R."""

    amm_key: str
    label: str
    base_mint: str
    quote_mint: str
    fee_bps: int
    depth_usd: Decimal  # virtual reserve of each side, valued at mid, before SimConfig.depth_multiplier
    range_factor: Decimal  # liquidity sits within [mid/R, mid·R]; beyond it the pool gives nothing more


def _pool(key: str, label: str, base: str, quote: str, fee_bps: int, depth_musd: str, rng: str | Decimal) -> PoolSpec:
    """PoolSpec with depth given in millions of USD."""
    return PoolSpec(key, label, base, quote, fee_bps, Decimal(depth_musd) * 1_000_000, Decimal(rng))


S, C, T, J, M = SOL.mint, USDC.mint, USDT.mint, JUP.mint, MSOL.mint
POOLS: tuple[PoolSpec, ...] = (
    _pool("6wqeWmBtjJUet6Pf12BBzhH2EzENS6GZNjaVjtdXhuQt", "Whirlpool", S, C, 2, "240", "1.001"),
    _pool("7quxcU6SCjs3KNGbrzH2BSToqjZ2FaDGVdRDn9NjZUG4", "Raydium CLMM", S, C, 4, "60", "1.003"),
    _pool("FcKy9bok61okqUSLdqe17t47SYbTqsyeqyKgmc9fxM8E", "Meteora DLMM", S, C, 10, "30", "1.008"),
    _pool("HXW5gYENGwJYpLmm9Z57UGe2E1bLvpAobYBfeCg59VQu", "Raydium", S, C, 25, "200", FULL_RANGE),
    _pool("E52rXgBSXF5wjekhFVDjA4jTaCi3VcRx3K8GzS6pQ2S2", "Whirlpool", S, T, 3, "130", "1.001"),
    _pool("DmyAuawYj45kjEeU1dF14My7nYd9wPqq4iQu25kpS1uU", "Raydium CLMM", S, T, 6, "40", "1.003"),
    _pool("BkAgURGxFUE2JGVpXofA1i4t4uAvEktMAZg4ZnyHYF1R", "Raydium", S, T, 25, "125", FULL_RANGE),
    _pool("HTLxweDLAdd4Jtraoxbsjqm24xfkuZCnc5BViD5FGq53", "Stabble Stable Swap", C, T, 1, "4000", "1.002"),
    _pool("H2PAF8fVuvDGdYFcj5aahAYyFdcuKXSW4ya4At3s4xhx", "Whirlpool", C, T, 1, "800", "1.005"),
    _pool("EoqG3sASLqmfa7Zfvg3qvPSWnx8VB1L1LuoVRnRHGTqo", "Meteora DLMM", C, T, 2, "40", FULL_RANGE),
    _pool("GhgVsyH1E7ECEjGozAzUCdcB8gCFD4ePAToWagJBz5GH", "Meteora DLMM", J, C, 20, "3", "1.05"),
    _pool("5ytGHE4MDvYFSUgXNfe9rwcZVDj8oi8KhG1v9P7oRMHr", "Raydium CLMM", J, C, 25, "2", "1.2"),
    _pool("FoWK4BoxH6nSTPzwhfh2cnu16wWNJxq3PRAZ8vQ3xswm", "Whirlpool", J, C, 30, "4", FULL_RANGE),
    _pool("28zoSFThBXygX5eSDhnwSoR289XST4kdvSsjo2pabtP2", "Whirlpool", M, S, 1, "40", "1.01"),
    _pool("HZiRxh3DAcGbwZnGnrDPaSkGdM9KhiuVZGAckDPNkNQR", "Raydium CLMM", M, S, 2, "15", "1.03"),
    _pool("HtArTNywW8Yar1SKsWma4wD64pWMqyNZHj22tA5tKikF", "Sanctum Infinity", M, S, 3, "25", FULL_RANGE),
)
del S, C, T, J, M
