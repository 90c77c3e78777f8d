"""Reference prices of the simulated DEX: seeded fractal random walks, pure functions of (seed, time bucket).

Each token's USD price is `anchor · exp(σ_bucket · N(bucket) / 2)` where `N` is value noise summed over dyadic
time scales 2^k buckets with amplitude √(2^k): increments over a lag of L buckets then have variance ≈ 4·L, i.e. the
walk behaves like Brownian motion at the configured annual volatility on lags up to 2^octaves buckets and stays
bounded (mean-reverting to the anchor) beyond that. One price costs O(octaves) hashes; nothing iterates from an epoch.
"""
from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Context, Decimal, localcontext
from functools import lru_cache

from core.tokens import JUP, MSOL, SOL, USDC, USDT

SECONDS_PER_YEAR = 31_557_600  # Julian year
_CTX = Context(prec=34)
_SQRT3 = Decimal(3).sqrt(_CTX)
_MAX_OCTAVES = 24
_AMPLITUDE = tuple(Decimal(2**k).sqrt(_CTX) for k in range(_MAX_OCTAVES))  # √(2^k), amplitude of octave k


@dataclass(frozen=True, slots=True)
class SimConfig:
    """Simulator settings: seed, pool depth scale, price bucket length (s), annual volatility (%) and the half-life (s)
    in which arbitrage takes back half of a pool's displacement by our own swaps."""

    seed: int = 7
    depth_multiplier: Decimal = Decimal(1)  # scales all pool reserves (env JUPITER_SIM_DEPTH)
    bucket_s: int = 1  # reference price changes once per bucket
    annual_vol_pct: Decimal = Decimal(80)  # volatility of the reference random walk
    arb_half_life_s: int = 60  # env SIM_ARB_HALF_LIFE_S

    def __post_init__(self) -> None:
        """Fail fast on settings the model cannot use."""
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValueError("seed must be an integer")
        if not isinstance(self.depth_multiplier, Decimal) or not self.depth_multiplier.is_finite():
            raise ValueError("depth_multiplier must be a finite Decimal")
        if self.depth_multiplier <= 0:
            raise ValueError("depth_multiplier must be greater than zero")
        if isinstance(self.bucket_s, bool) or not isinstance(self.bucket_s, int) or self.bucket_s < 1:
            raise ValueError("bucket_s must be a positive integer number of seconds")
        vol = self.annual_vol_pct
        if not isinstance(vol, Decimal) or not vol.is_finite() or vol < 0 or vol > 1000:
            raise ValueError("annual_vol_pct must be a Decimal between 0 and 1000")
        half_life = self.arb_half_life_s
        if isinstance(half_life, bool) or not isinstance(half_life, int) or not 1 <= half_life <= 86_400:
            raise ValueError("arb_half_life_s must be a whole number of seconds from 1 to 86400")


@dataclass(frozen=True, slots=True)
class _Walk:
    """How one token's USD price moves: anchor price (USD or parent units), parent token, volatility scale, octaves."""

    anchor: Decimal
    parent: str | None  # price is quoted in this token's USD price (mSOL in SOL), else in USD
    vol_scale: Decimal  # multiple of SimConfig.annual_vol_pct
    octaves: int  # top time scale is 2^(octaves-1) buckets


_WALKS: dict[str, _Walk] = {
    SOL.mint: _Walk(Decimal(150), None, Decimal(1), 20),
    USDC.mint: _Walk(Decimal(1), None, Decimal(0), 0),
    USDT.mint: _Walk(Decimal(1), None, Decimal("0.02"), 12),
    JUP.mint: _Walk(Decimal("0.5"), None, Decimal("1.25"), 20),
    MSOL.mint: _Walk(Decimal("1.27"), SOL.mint, Decimal("0.02"), 12),
}
TRADABLE_MINTS = frozenset(_WALKS)
_DECIMALS = {t.mint: t.decimals for t in (JUP, MSOL, SOL, USDC, USDT)}


def time_bucket(now_s: float, config: SimConfig) -> int:
    """Index of the price bucket holding `now_s` (seconds since the Unix epoch), rounded down."""
    return int(now_s // config.bucket_s)


def _lattice(seed: int, stream: str, octave: int, index: int) -> Decimal:
    """Deterministic lattice value, uniform on [-√3, √3) (unit variance), for one octave and lattice index."""
    digest = hashlib.blake2b(f"{seed}:{stream}:{octave}:{index}".encode(), digest_size=8).digest()
    unit = Decimal(int.from_bytes(digest, "big") - 2**63) / Decimal(2**63)
    return unit * _SQRT3


def fractal_noise(seed: int, stream: str, bucket: int, octaves: int) -> Decimal:
    """Σ over octaves k of √(2^k) · (lattice values interpolated at `bucket`); increment variance ≈ 4 per bucket."""
    if not 0 <= octaves <= _MAX_OCTAVES:
        raise ValueError(f"octaves must be between 0 and {_MAX_OCTAVES}")
    with localcontext(_CTX):
        total = Decimal(0)
        for k in range(octaves):
            index = bucket >> k
            frac = bucket - (index << k)
            v0 = _lattice(seed, stream, k, index)
            v1 = _lattice(seed, stream, k, index + 1)
            total += _AMPLITUDE[k] * (v0 + (v1 - v0) * frac / (1 << k))
        return total


@lru_cache(maxsize=4096)
def _usd_at_bucket(mint: str, bucket: int, config: SimConfig) -> Decimal:
    """USD price of one whole token at a bucket (pure; cached)."""
    walk = _WALKS[mint]
    with localcontext(_CTX):
        price = walk.anchor
        if walk.octaves and walk.vol_scale and config.annual_vol_pct:
            sigma = config.annual_vol_pct / 100 * walk.vol_scale * (Decimal(config.bucket_s) / SECONDS_PER_YEAR).sqrt()
            noise = fractal_noise(config.seed, mint, bucket, walk.octaves)
            price = price * (sigma * noise / 2).exp()
        if walk.parent is not None:
            price = price * _usd_at_bucket(walk.parent, bucket, config)
        return +price


def usd_price(mint: str, now_s: float, config: SimConfig) -> Decimal:
    """USD price of one whole token (human units) at the bucket of now_s; ValueError for an unknown mint."""
    if mint not in _WALKS:
        raise ValueError(f"unknown mint {mint!r}")
    return _usd_at_bucket(mint, time_bucket(now_s, config), config)


def reference_price(base_mint: str, quote_mint: str, now_s: float, config: SimConfig) -> Decimal:
    """Mid price, quote tokens per 1 base token in human units, at the time bucket of now_s (any two known mints)."""
    base = usd_price(base_mint, now_s, config)
    quote = usd_price(quote_mint, now_s, config)
    with localcontext(_CTX):
        return base / quote


def price_response(params: Mapping[str, str], now_s: float, config: SimConfig) -> tuple[int, str]:
    """Jupiter's GET /price/v3 answer as (status, JSON text): `ids` comma-separated mints; unknown mints left out.

    usdPrice is written as an exact JSON number (no float on the way). `at` (Unix seconds) prices another time:
    a simulator-only parameter for back-dated demo data.
    """
    ids = [m for m in (params.get("ids") or "").split(",") if m]
    if not ids or len(ids) > 50:
        return 400, json.dumps({"error": "ids must name 1 to 50 comma-separated mints"})
    try:
        at_s = float(params["at"]) if params.get("at") else now_s
    except ValueError:
        return 400, json.dumps({"error": "at must be Unix seconds"})
    if not math.isfinite(at_s) or not 0 <= at_s < 2**40:
        return 400, json.dumps({"error": "at must be Unix seconds"})
    entries = []
    for mint in dict.fromkeys(ids):
        if mint not in _WALKS:
            continue
        price = usd_price(mint, at_s, config)
        day_ago = usd_price(mint, at_s - 86_400, config)
        with localcontext(_CTX):
            change = ((price / day_ago - 1) * 100).quantize(Decimal("0.0001"))
        block = int(at_s * 2.5)  # ~400 ms slots
        entries.append(f'{json.dumps(mint)}: {{"usdPrice": {price}, "blockId": {block}, "decimals": '
                       f'{_DECIMALS[mint]}, "priceChange24h": {change}}}')
    return 200, "{" + ", ".join(entries) + "}"
