"""The brute-force split of the routing benchmark: the best Jupiter + OTC cut of an order on exact quotes.

Used by bench/routing.py to measure how far the router's split is from the optimum. Jupiter is asked at every cut it
needs (the in-process simulator, the same client as the router's), the pool is priced by its engine; a 64-point grid
over Jupiter's share, then a golden-section refinement around the best grid point. Only pairs with one OTC pool.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from core import orders, router
from core.curves import _otc_leg

GRID_POINTS, GOLDEN_ROUNDS = 64, 30


@dataclass(frozen=True, slots=True)
class Optimum:
    """The best split found: its all-in value (other-side atoms) and the atoms of the fixed side on Jupiter."""

    value: Fraction
    jupiter_atoms: int


def best_split(order: orders.Order, g: Any, client: Any, rate: Fraction, risk: dict[str, Decimal]) -> Optimum | None:
    """The best Jupiter + pool split on exact quotes (grid then golden section); None without exactly one pool."""
    otc = [c for c in g.curves if c.book is not None]
    if len(otc) != 1:
        return None
    book, n, venue = otc[0].book, order.amount_atoms, otc[0].venue
    seen: dict[int, Fraction | None] = {}

    def value(x: int) -> Fraction | None:  # x atoms of the fixed side on Jupiter, the rest on the pool
        if x in seen:
            return seen[x]
        total, ok = Fraction(0), True
        if x > 0:
            try:
                q = client.quote(order.input_token.mint, order.output_token.mint, x, order.slippage_bps,
                                 order.swap_mode)
                total += router.all_in_gain(order, rate, q.in_amount_atoms, q.out_amount_atoms, risk["jupiter"])
            except Exception:
                ok = False
        if ok and x < n:
            leg = _otc_leg(book, n - x, order.input_token.mint, order.output_token.mint, order.swap_mode)
            if leg is None:
                ok = False
            else:
                total += router.all_in_gain(order, rate, leg[0], leg[1], risk[venue])
        seen[x] = total if ok else None
        return seen[x]

    grid = sorted({n * k // GRID_POINTS for k in range(GRID_POINTS + 1)})
    scored = [(v, x) for x in grid if (v := value(x)) is not None]
    if not scored:
        return None
    best_x = max(scored)[1]
    lo, hi = max(0, best_x - n // GRID_POINTS), min(n, best_x + n // GRID_POINTS)
    for _ in range(GOLDEN_ROUNDS):  # golden section on the bracket around the best grid point
        if hi - lo < 3:
            break
        a, b = lo + (hi - lo) * 382 // 1000, lo + (hi - lo) * 618 // 1000
        va, vb = value(a), value(b)
        if va is None or (vb is not None and vb >= va):
            lo = a
        else:
            hi = b
    found = max((v, x) for x, v in seen.items() if v is not None)
    return Optimum(found[0], found[1])


def gap_bps(order: orders.Order, rate: Fraction, optimum: Optimum | None, routed: Fraction) -> Decimal | None:
    """How far the router's all-in value is below the optimum, in bps of the order's value at mid (to 0.0001)."""
    if optimum is None:
        return None
    gap = max(Fraction(0), optimum.value - routed) * 10_000 / (rate * order.amount_atoms)
    return (Decimal(gap.numerator) / Decimal(gap.denominator)).quantize(Decimal("0.0001"))


def brute_line(rows: list[Any], target_bps: Decimal) -> str:
    """The split's gap to the brute-force optimum on exact quotes, over the split orders brute-forced."""
    gaps = [r.brute_gap_bps for r in rows if r.brute_gap_bps is not None and r.legs > 1]
    if not gaps:
        return "- no split order was brute-forced."
    mean = sum(gaps, Decimal(0)) / len(gaps)
    return (f"- split vs a brute-force optimum on exact quotes (Jupiter + the pair's pool, 64-point grid then "
            f"golden section) over {len(gaps)} split orders: mean gap **{mean:.4f} bp**, max {max(gaps):.4f} bp "
            f"(target ≤ {target_bps} bp on every order: **{'met' if max(gaps) <= target_bps else 'NOT met'}**).")


def worst_gaps(rows: list[Any], count: int = 10) -> list[str]:
    """The orders furthest from the brute-force optimum: size, flavour, gap and both cuts (Jupiter's share)."""
    worst = sorted((r for r in rows if r.brute_gap_bps is not None), key=lambda r: r.brute_gap_bps or 0,
                   reverse=True)[:count]

    def share(atoms: int, r: Any) -> str:
        return f"{atoms * 100 / r.amount_atoms:.2f} %"

    lines = [f"The {len(worst)} orders furthest from the brute-force optimum:", "",
             "| size (SOL) | order | gap (bp) | router's legs (share of the order) | brute force: Jupiter's share |",
             "|---:|---|---:|---|---:|"]
    for r in worst:
        legs = ", ".join(f"{venue} {share(atoms, r)}" for venue, atoms in r.routed_legs)
        best = "n/a" if r.brute_jupiter_atoms is None else share(r.brute_jupiter_atoms, r)
        lines.append(f"| {r.size_sol:,} | {r.label} | {r.brute_gap_bps:.4f} | {legs} | {best} |")
    return lines
