"""OTC dealer value objects: pool parameters, inventory, quotes and refusals, validated on construction.

Pure: stdlib only. Amounts are integer atoms, prices and bps Decimal; floats and naive datetimes are refused.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime
from decimal import ROUND_CEILING, Context, Decimal, localcontext
from functools import lru_cache

from core import tokens
from core.units import BPS, BPS_PLACES, SECONDS_PER_YEAR
from core.venue import Venue

DECIMAL_CTX = Context(prec=50)



def checked_decimal(name: str, value: object, *, positive: bool = False) -> Decimal:
    """A finite, non-negative (or positive) Decimal from a Decimal or int; floats are refused."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise ValueError(f"{name} must be a Decimal or int, never a float: got {value!r}")
    d = Decimal(value)
    if not d.is_finite() or d < 0 or (positive and d == 0):
        raise ValueError(f"{name} must be a finite number {'> 0' if positive else '>= 0'}: got {value}")
    return d


def checked_atoms(name: str, value: object) -> int:
    """A non-negative integer atom (or ms) count."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer: got {value!r}")
    return value


def as_utc(name: str, value: object) -> datetime:
    """A timezone-aware datetime converted to UTC; naive datetimes are refused."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime: got {value!r}")
    return value.astimezone(UTC)


def symbol_of(mint: str) -> str:
    """Token symbol for a mint, or the mint itself when it is not registered."""
    try:
        return tokens.token_by_mint(mint).symbol
    except ValueError:
        return mint


@dataclass(frozen=True, slots=True)
class PoolParams:
    """A dealer pool's configuration: pair, spreads and fee (bps), size limits and targets (atoms), timing (ms)."""

    name: str
    base_mint: str
    quote_mint: str
    base_decimals: int
    quote_decimals: int
    base_spread_bps: Decimal
    size_spread_bps: Decimal
    size_exponent: Decimal
    annual_vol_pct: Decimal
    vol_z: Decimal
    fee_bps: Decimal
    min_trade_base_atoms: int
    max_trade_base_atoms: int
    target_base_atoms: int
    target_quote_atoms: int
    replenish_pct_per_hour: Decimal
    execution_delay_ms: int
    delay_jitter_ms: int
    quote_ttl_ms: int
    active: bool = True
    inventory_skew_bps: Decimal = Decimal(0)  # mid shift at full inventory imbalance (otc_engine.skew_bps)

    def __post_init__(self) -> None:
        """Fail fast on a configuration the pricing cannot honour (ints become Decimals)."""
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError("pool name is required")
        if not self.base_mint or not self.quote_mint or self.base_mint == self.quote_mint:
            raise ValueError("pool needs two different mints (base and quote)")
        for f in fields(self):  # annotations are strings under `from __future__ import annotations`
            value = getattr(self, f.name)
            if f.type == "Decimal":
                object.__setattr__(self, f.name, checked_decimal(f.name, value, positive=f.name == "size_exponent"))
            elif f.type == "int":
                checked_atoms(f.name, value)
            elif f.type == "bool" and not isinstance(value, bool):
                raise ValueError(f"{f.name} must be True or False: got {value!r}")
        if self.base_decimals > 18 or self.quote_decimals > 18:
            raise ValueError("base_decimals and quote_decimals must be between 0 and 18")
        if self.min_trade_base_atoms == 0 or self.min_trade_base_atoms > self.max_trade_base_atoms:
            raise ValueError("min_trade_base_atoms must be > 0 and <= max_trade_base_atoms")
        if self.inventory_skew_bps > 100:
            raise ValueError("inventory_skew_bps must be at most 100 bps")
        if self.quote_ttl_ms == 0:
            raise ValueError("quote_ttl_ms must be > 0")
        worst_vol = vol_spread_bps(self.annual_vol_pct, self.vol_z, self.execution_delay_ms + self.delay_jitter_ms)
        worst = (self.base_spread_bps + (1 + self.size_exponent) * self.size_spread_bps + worst_vol + self.fee_bps
                 + self.inventory_skew_bps)
        if worst >= BPS:  # keeps output positive and increasing with size
            raise ValueError(f"spreads and fee must total under {BPS} bps even at full size (got {worst})")

    @property
    def venue(self) -> str:
        """Venue name used in quotes and trade records, e.g. 'otc:sol-usdc'."""
        return str(Venue.otc(self.name))


@dataclass(frozen=True, slots=True)
class Inventory:
    """A pool's holdings in atoms per side, as of a UTC instant."""

    base_atoms: int
    quote_atoms: int
    as_of: datetime

    def __post_init__(self) -> None:
        """Refuse negative holdings (an oversell) and naive timestamps; store as_of in UTC."""
        checked_atoms("inventory base_atoms", self.base_atoms)
        checked_atoms("inventory quote_atoms", self.quote_atoms)
        object.__setattr__(self, "as_of", as_utc("as_of", self.as_of))


@dataclass(frozen=True, slots=True)
class OtcQuote:
    """A firm dealer quote. fee_atoms is in OUTPUT atoms for ExactIn and INPUT atoms for ExactOut."""

    venue: str
    input_mint: str
    output_mint: str
    swap_mode: str
    in_amount_atoms: int
    out_amount_atoms: int
    base_atoms: int
    mid_price: Decimal
    base_spread_bps: Decimal
    size_spread_bps: Decimal
    vol_spread_bps: Decimal
    spread_bps: Decimal
    fee_bps: Decimal
    fee_atoms: int
    execution_delay_ms: int
    quoted_at: datetime
    expires_at: datetime
    base_mint: str = ""  # the pool's base mint: tells apply_fill which side moves (inferred when empty)
    skew_bps: Decimal = Decimal(0)  # inventory skew charged to this trader (in spread_bps; negative: a discount)


@dataclass(frozen=True, slots=True)
class OtcRefusal:
    """A pool declining an order, with a reason a trader can act on."""

    venue: str
    reason: str


def vol_spread_bps(annual_vol_pct: Decimal, z: Decimal, delay_ms: int) -> Decimal:
    """Price-risk charge over the delay: z * annual_vol/100 * sqrt(delay_s / year_s) * 10000 bps, rounded up."""
    vol, z_ = checked_decimal("annual_vol_pct", annual_vol_pct), checked_decimal("vol_z", z)
    return _vol_spread_bps(str(vol), str(z_), checked_atoms("delay_ms", delay_ms))


@lru_cache(maxsize=1024)  # pure; a quote asks it a dozen times per pool with the same delay
def _vol_spread_bps(vol_text: str, z_text: str, delay_ms: int) -> Decimal:
    """vol_spread_bps on checked inputs, keyed by the Decimals' exact text (sign of zero and scale kept)."""
    with localcontext(DECIMAL_CTX):
        years = Decimal(delay_ms) / (1000 * SECONDS_PER_YEAR)
        return (Decimal(z_text) * Decimal(vol_text) * 100 * years.sqrt()).quantize(BPS_PLACES, rounding=ROUND_CEILING)
