"""The simulated DEX's pool table: each pair's AMM pools with venue kind, fee, virtual depth and price range.

Pure data. Every pool is a constant-product curve on virtual reserves (x·y = k) whose liquidity sits within
[mid/R, mid·R] around the reference mid; the three venue kinds differ only in their numbers:

- constant-product (Raydium AMM v4): full range (R = 100), 25 bps fee, moderate depth;
- concentrated (Orca Whirlpool, Raydium CLMM, Meteora DLMM): a deep virtual curve in a narrow range, 2-10 bps fee;
- prop AMM (HumidiFi, SolFi, Tessera V): a very deep virtual curve in a very narrow range and a 1-2 bps fee, i.e. a
  tight book that quotes thousands of SOL within a few bps and nothing beyond its range.

SOL/USDC at JUPITER_SIM_DEPTH=1 is calibrated to today's Solana (README, "Simulated market depth"): HumidiFi alone
sells 4,000 SOL at ~4 bps all-in; the pair costs ~1.6 bps vs mid at 1,000 SOL, ~11 at 10,000, ~250 at 100,000.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from core.tokens import JUP, MSOL, SOL, USDC, USDT

FULL_RANGE = Decimal(100)  # "full-range" pools quote while their price stays within [mid/100, mid·100]


class PoolKind(StrEnum):
    """The venue type a simulated pool stands for."""

    CONSTANT_PRODUCT = "constant-product"
    CONCENTRATED = "concentrated"
    PROP_AMM = "prop-amm"


@dataclass(frozen=True, slots=True)
class PoolSpec:
    """A simulated AMM pool: key, label, kind, pair, fee (bps), virtual depth (USD per side at mid), range factor R."""

    amm_key: str
    label: str
    kind: PoolKind
    base_mint: str
    quote_mint: str
    fee_bps: int
    depth_usd: Decimal  # virtual reserve of each side, valued at mid, before SimConfig.depth_multiplier
    range_factor: Decimal  # liquidity sits within [mid/R, mid·R]; beyond it the pool gives nothing more


def _pool(key: str, label: str, kind: PoolKind, base: str, quote: str, fee_bps: int, depth_musd: str,
          rng: str | Decimal) -> PoolSpec:
    """PoolSpec with depth given in millions of USD."""
    return PoolSpec(key, label, kind, base, quote, fee_bps, Decimal(depth_musd) * 1_000_000, Decimal(rng))


S, C, T, J, M = SOL.mint, USDC.mint, USDT.mint, JUP.mint, MSOL.mint
P, K, F = PoolKind.PROP_AMM, PoolKind.CONCENTRATED, PoolKind.CONSTANT_PRODUCT
POOLS: tuple[PoolSpec, ...] = (
    _pool("8AHcMGiyPdnfyEoUVnb2skux89gGHzzHEhJBR4tNoK6o", "HumidiFi", P, S, C, 1, "2000", "1.00065"),
    _pool("HjfWjWEwPWnzcKaaKwZq7oYs5yVGgHgXwi2ja72hSitm", "SolFi", P, S, C, 1, "600", "1.0006"),
    _pool("FfVz8yBqYMTfXSktKfxaJnmvT5n9xdpBvQkJEFvjMDu9", "Tessera V", P, S, C, 2, "400", "1.0008"),
    _pool("6wqeWmBtjJUet6Pf12BBzhH2EzENS6GZNjaVjtdXhuQt", "Whirlpool", K, S, C, 2, "120", "1.01"),
    _pool("7quxcU6SCjs3KNGbrzH2BSToqjZ2FaDGVdRDn9NjZUG4", "Raydium CLMM", K, S, C, 4, "60", "1.05"),
    _pool("FcKy9bok61okqUSLdqe17t47SYbTqsyeqyKgmc9fxM8E", "Meteora DLMM", K, S, C, 10, "40", "1.1"),
    _pool("HXW5gYENGwJYpLmm9Z57UGe2E1bLvpAobYBfeCg59VQu", "Raydium", F, S, C, 25, "400", FULL_RANGE),
    _pool("Db2VqwMMMkBPwepbLPWNL479r9moRjEjRoLiDYhoKfNM", "HumidiFi", P, S, T, 2, "1200", "1.00065"),
    _pool("8rWFwaP1FkbAMYqAVtJZWXv245gFkYfJ71roAvWzF5zx", "SolFi", P, S, T, 2, "300", "1.0006"),
    _pool("E52rXgBSXF5wjekhFVDjA4jTaCi3VcRx3K8GzS6pQ2S2", "Whirlpool", K, S, T, 3, "70", "1.01"),
    _pool("DmyAuawYj45kjEeU1dF14My7nYd9wPqq4iQu25kpS1uU", "Raydium CLMM", K, S, T, 6, "35", "1.05"),
    _pool("BkAgURGxFUE2JGVpXofA1i4t4uAvEktMAZg4ZnyHYF1R", "Raydium", F, S, T, 25, "280", FULL_RANGE),
    _pool("HTLxweDLAdd4Jtraoxbsjqm24xfkuZCnc5BViD5FGq53", "Stabble Stable Swap", K, C, T, 1, "4000", "1.002"),
    _pool("H2PAF8fVuvDGdYFcj5aahAYyFdcuKXSW4ya4At3s4xhx", "Whirlpool", K, C, T, 1, "800", "1.005"),
    _pool("EoqG3sASLqmfa7Zfvg3qvPSWnx8VB1L1LuoVRnRHGTqo", "Meteora DLMM", F, C, T, 2, "40", FULL_RANGE),
    _pool("GhgVsyH1E7ECEjGozAzUCdcB8gCFD4ePAToWagJBz5GH", "Meteora DLMM", K, J, C, 20, "3", "1.05"),
    _pool("5ytGHE4MDvYFSUgXNfe9rwcZVDj8oi8KhG1v9P7oRMHr", "Raydium CLMM", K, J, C, 25, "2", "1.2"),
    _pool("FoWK4BoxH6nSTPzwhfh2cnu16wWNJxq3PRAZ8vQ3xswm", "Whirlpool", F, J, C, 30, "4", FULL_RANGE),
    _pool("28zoSFThBXygX5eSDhnwSoR289XST4kdvSsjo2pabtP2", "Whirlpool", K, M, S, 1, "40", "1.01"),
    _pool("HZiRxh3DAcGbwZnGnrDPaSkGdM9KhiuVZGAckDPNkNQR", "Raydium CLMM", K, M, S, 2, "15", "1.03"),
    _pool("HtArTNywW8Yar1SKsWma4wD64pWMqyNZHj22tA5tKikF", "Sanctum Infinity", F, M, S, 3, "25", FULL_RANGE),
)
POOL_BY_KEY: dict[str, PoolSpec] = {spec.amm_key: spec for spec in POOLS}
del S, C, T, J, M, P, K, F
