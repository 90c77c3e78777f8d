"""The shape of Jupiter's cost curve from a ladder of sizes, so an order needs only its own quote and a firm leg.

Pure: stdlib only. A ladder belongs to a pair and direction (input mint, output mint, swap mode). Its rungs are sizes
of the fixed side on a geometric grid, 2^k whole tokens (k ≥ 0 … RUNG_MAX), each holding the execution cost of a
Jupiter quote at that size against the reference mid when it was sampled (bps). For an order of N atoms the curve
needs the rungs in [N/2^LADDER_DEPTH, N): the ladder gives their costs, shifted by one level so that the cost at N
equals the order's own fresh quote (a moved mid moves every size alike); their amounts follow at today's mid.
"""
from __future__ import annotations

from bisect import bisect_left
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from functools import lru_cache

from core.orders import Order
from core.units import BPS, PRICE_PRECISION

LADDER_DEPTH = 6  # rungs down to order/64, as the split needs (no leg under 1 % of the order)
RUNG_MAX = 40  # 2^40 whole tokens: far above any order
# Rungs per doubling of size, as exact ratios 2^(r/STEPS) to 9 decimals (sizes are whole atoms, no float).
STEP_RATIOS = ((1, 1), (1_189_207_115, 10**9), (1_414_213_562, 10**9), (1_681_792_831, 10**9))
STEPS = len(STEP_RATIOS)


def grid_size(unit: int, index: int) -> int:
    """The index-th grid size: unit · 2^(index / STEPS), rounded down to an atom."""
    num, den = STEP_RATIOS[index % STEPS]
    return (unit << (index // STEPS)) * num // den


@lru_cache(maxsize=64)  # a handful of token units; every quote walks the grid twice
def grid(unit: int) -> tuple[int, ...]:
    """Every grid size of a token whose whole unit is `unit` atoms, ascending."""
    return tuple(grid_size(unit, i) for i in range((RUNG_MAX + 1) * STEPS))


def rung_sizes(order: Order) -> list[int]:
    """The grid sizes (atoms of the fixed side) in [amount/2^LADDER_DEPTH, amount), ascending."""
    low, sizes = order.amount_atoms >> LADDER_DEPTH, grid(10**order.amount_token.decimals)
    return list(sizes[bisect_left(sizes, low):bisect_left(sizes, order.amount_atoms)])


def cost_bps(order: Order, size_atoms: int, other_atoms: int, mid: Decimal) -> Decimal:
    """Execution cost of a quote of size_atoms (fixed side) for other_atoms against the mid, in bps (unrounded)."""
    with localcontext() as ctx:
        ctx.prec = PRICE_PRECISION
        scale = Decimal(1).scaleb(order.output_token.decimals - order.input_token.decimals)
        if order.exact_in:
            fair = Decimal(size_atoms) * mid * scale
            return (fair - other_atoms) / fair * BPS
        fair = Decimal(size_atoms) / (mid * scale)
        return (other_atoms - fair) / fair * BPS


def other_atoms(order: Order, size_atoms: int, cost: Decimal, mid: Decimal) -> int:
    """The other side of a size at a cost vs the mid: output rounded down (ExactIn), input rounded up (ExactOut)."""
    with localcontext() as ctx:
        ctx.prec = PRICE_PRECISION
        scale = Decimal(1).scaleb(order.output_token.decimals - order.input_token.decimals)
        if order.exact_in:
            value = Decimal(size_atoms) * mid * scale * (1 - cost / BPS)
            return max(0, int(value.to_integral_value(rounding=ROUND_FLOOR)))
        value = Decimal(size_atoms) / (mid * scale) * (1 + cost / BPS)
        return int(value.to_integral_value(rounding=ROUND_CEILING))


def _cost_at(rungs: dict[int, Decimal], size: int) -> Decimal:
    """The ladder's cost at any size: linear in log2(size) between the rungs around it, flat beyond the ends."""
    sizes = sorted(rungs)
    if size <= sizes[0]:
        return rungs[sizes[0]]
    if size >= sizes[-1]:
        return rungs[sizes[-1]]
    lo = max(s for s in sizes if s <= size)
    hi = min(s for s in sizes if s > size)
    with localcontext() as ctx:
        ctx.prec = PRICE_PRECISION
        t = (_ln(size) - _ln(lo)) / (_ln(hi) - _ln(lo))
        return rungs[lo] + (rungs[hi] - rungs[lo]) * t


@lru_cache(maxsize=4096)  # rung sizes recur on every quote of a pair; ln is the dearest Decimal operation here
def _ln(atoms: int) -> Decimal:
    """ln(atoms) to PRICE_PRECISION digits (correctly rounded, as Decimal.ln always is)."""
    with localcontext() as ctx:
        ctx.prec = PRICE_PRECISION
        return Decimal(atoms).ln()


def knots(order: Order, rungs: dict[int, Decimal], full_other_atoms: int, mid: Decimal,
          above: dict[int, Decimal] | None = None) -> tuple[tuple[int, int], ...]:
    """(size, other) knots of the order's Jupiter curve: the ladder's rungs below the order, levelled to its quote.

    `rungs` are the costs (bps) of the rung sizes below the order; `above` optionally the next rungs above it, so
    the level at the order's size is interpolated rather than extrapolated. The order's own point is exact.
    """
    full_cost = cost_bps(order, order.amount_atoms, full_other_atoms, mid)
    known = {**rungs, **(above or {})}
    if not known:
        return ((order.amount_atoms, full_other_atoms),)
    shift = full_cost - _cost_at(known, order.amount_atoms)
    points = [(size, other_atoms(order, size, cost + shift, mid)) for size, cost in sorted(rungs.items())
              if 0 < size < order.amount_atoms]
    return (*[(s, o) for s, o in points if o > 0], (order.amount_atoms, full_other_atoms))
