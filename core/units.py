"""Units and the rules that use them, each defined once: basis points, swap mode, min-out / max-in, savings, time text.

Pure: stdlib only. Amounts are integer atoms; bps are Decimal, quantized to BPS_PLACES where stored.
"""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_FLOOR, Decimal, localcontext
from enum import StrEnum

BPS = 10_000  # basis points in one
BPS_PLACES = Decimal("0.0001")  # stored bps precision: every stored cost, saving and spread
SECONDS_PER_YEAR = 365 * 24 * 3600
PRICE_PRECISION = 60  # significant digits of every mid-price computation (and its inverse)


class SwapMode(StrEnum):
    """Which side of an order is fixed: the input (ExactIn) or the output (ExactOut); Jupiter's wire names."""

    EXACT_IN = "ExactIn"
    EXACT_OUT = "ExactOut"

    @classmethod
    def parse(cls, text: object) -> SwapMode:
        """The mode named exactly by `text`; ValueError otherwise."""
        try:
            return cls(text)
        except ValueError:
            raise ValueError("swap_mode must be ExactIn or ExactOut") from None


def ceil_div(a: int, b: int) -> int:
    """⌈a / b⌉ for integers, b > 0."""
    return -(-a // b)


def min_out(out_atoms: int, slippage_bps: int) -> int:
    """Least output accepted: out·(10000 − slippage)/10000, rounded down."""
    return out_atoms * (BPS - slippage_bps) // BPS


def max_in(in_atoms: int, slippage_bps: int) -> int:
    """Most input accepted: in·(10000 + slippage)/10000, rounded up."""
    return ceil_div(in_atoms * (BPS + slippage_bps), BPS)


def saved_atoms(swap_mode: SwapMode | str, in_atoms: int, out_atoms: int, base_in_atoms: int,
                base_out_atoms: int) -> tuple[int, int]:
    """(saved atoms, the baseline they are counted against): extra output (ExactIn) or input spared (ExactOut)."""
    if swap_mode == SwapMode.EXACT_IN:
        return out_atoms - base_out_atoms, base_out_atoms
    return base_in_atoms - in_atoms, base_in_atoms


def bps_of(part: int | Decimal, whole: int | Decimal) -> Decimal:
    """part / whole in bps, rounded down to BPS_PLACES (a saving is never overstated)."""
    with localcontext() as ctx:
        ctx.prec = 40
        return (Decimal(part) * BPS / Decimal(whole)).quantize(BPS_PLACES, rounding=ROUND_FLOOR)


def bps_text(numerator: int, denominator: int) -> str:
    """numerator/denominator in bps, one decimal (half-even), exact integer arithmetic; '0.0' when empty."""
    if not denominator:
        return "0.0"
    return f"{(Decimal(numerator * BPS) / Decimal(denominator)).quantize(Decimal('0.1'))}"


def invert_price(price: Decimal) -> Decimal:
    """1 / price at PRICE_PRECISION digits: the other direction of a mid (quote per base ↔ base per quote)."""
    with localcontext() as ctx:
        ctx.prec = PRICE_PRECISION
        return 1 / price


def pool_mid(order_mid: Decimal, sells_base: bool) -> Decimal:
    """A pool's mid (quote per base) from an order's mid (output per input): as is when the order sells the base."""
    return order_mid if sells_base else invert_price(order_mid)


def iso_z(value: datetime | None) -> str:
    """ISO 8601 UTC with a Z suffix and milliseconds; naive datetimes are taken as UTC."""
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
