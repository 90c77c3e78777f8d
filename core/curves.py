"""Venue cost curves as data for one order, and the exact price of one leg cut from a curve.

Pure: stdlib, the allocator and the OTC engine only. A curve's size is atoms of the order's fixed side (input for
ExactIn, output for ExactOut); its other side is what the venue pays out (ExactIn) or charges (ExactOut).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, Decimal, localcontext
from fractions import Fraction
from functools import lru_cache

import otc_engine
from core import allocator
from core.units import BPS, BPS_PLACES, SwapMode


@dataclass(frozen=True, slots=True)
class OtcBook:
    """What exact OTC leg pricing needs: the pool, its inventory now, its mid (quote per base), time and jitter seed."""

    params: otc_engine.PoolParams
    inventory: otc_engine.Inventory
    pool_mid: Decimal
    now: datetime
    jitter_seed: int = 0


@dataclass(frozen=True, slots=True)
class VenueCurve:
    """A venue's cost curve for one order: knots (size atoms, other-side atoms) after an implicit (0, 0), legal leg
    sizes, all-in risk charge (bps of the leg's value) and delay; an OTC curve carries its book for exact leg prices."""

    venue: str
    knots: tuple[tuple[int, int], ...]
    min_atoms: int
    max_atoms: int
    risk_bps: Decimal
    delay_ms: int
    book: OtcBook | None = None


def price_leg(curve: VenueCurve, line: allocator.Curve, size: int, input_mint: str, output_mint: str, swap_mode: str,
              firm: Mapping[tuple[str, int], tuple[int, int]]) -> tuple[int, int, int | None, int] | None:
    """(in, out, fee, delay) of one leg: a firm quote, the OTC engine's exact price (None if refused), or else the
    curve's conservative estimate (ExactIn output rounded down, ExactOut input rounded up)."""
    if (curve.venue, size) in firm:
        in_atoms, out_atoms = firm[(curve.venue, size)]
        return in_atoms, out_atoms, None, curve.delay_ms
    if curve.book is not None:
        return _otc_leg(curve.book, size, input_mint, output_mint, swap_mode)
    other = allocator.other_at(line, size)
    if swap_mode == SwapMode.EXACT_IN:
        return size, other.numerator // other.denominator, None, curve.delay_ms
    return -(-other.numerator // other.denominator), size, None, curve.delay_ms


@lru_cache(maxsize=256)
def _otc_leg(b: OtcBook, size: int, input_mint: str, output_mint: str,
             swap_mode: str) -> tuple[int, int, int | None, int] | None:
    """The pool engine's exact (in, out, fee, delay) for a leg, or None if refused (memoised: it is pure)."""
    q = otc_engine.quote_pool(b.params, b.inventory, b.pool_mid, input_mint, output_mint, size, swap_mode, b.now,
                              jitter_seed=b.jitter_seed)
    if isinstance(q, otc_engine.OtcRefusal):
        return None
    return q.in_amount_atoms, q.out_amount_atoms, q.fee_atoms, q.execution_delay_ms


def marginal_bps(exact_in: bool, rate: Fraction, gain_slope: Fraction) -> Decimal:
    """All-in cost in bps of a leg's last atom, from its marginal gain per size atom and the fair rate (rounded up)."""
    lost = ((rate - gain_slope) if exact_in else (-gain_slope - rate)) * BPS / rate
    with localcontext() as ctx:
        ctx.prec = 40
        return (Decimal(lost.numerator) / lost.denominator).quantize(BPS_PLACES, ROUND_CEILING)
