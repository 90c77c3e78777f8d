"""Split allocation: cut one order into integer legs across venues' concave value curves at the least all-in cost.

Pure: stdlib only. A size is integer atoms of the order's fixed side (input for ExactIn, output for ExactOut); the
curve's other side (output received, or input paid) is interpolated linearly between knots, as an exact Fraction.
Each venue's gain is +other (ExactIn, maximised) or -other (ExactOut), minus a linear all-in charge per size atom.
Gain curves are made concave by capping each segment's slope at the running minimum (never above the data: a
conservative curve). Then, for every subset of venues (each leg 0 or within [min, max]), a greedy fill by slope from
the venues' lower bounds is the exact optimum of the piecewise-linear model, and the best subset wins.
"""
from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations, pairwise

MAX_SPLIT_VENUES = 8  # subsets are enumerated: at most 2^8 - 1 of them


@dataclass(frozen=True, slots=True)
class Curve:
    """A venue's sampled curve: knots (size_atoms, other_atoms) ascending after an implicit (0, 0); legal sizes
    [min_atoms, max_atoms]; `penalty` is the all-in charge per size atom in other-side atoms (e.g. delay risk)."""

    venue: str
    knots: tuple[tuple[int, int], ...]
    min_atoms: int
    max_atoms: int
    penalty: Fraction = Fraction(0)

    def __post_init__(self) -> None:
        """Refuse a curve the interpolation cannot honour."""
        sizes = [s for s, _ in self.knots]
        if not sizes or sizes[0] <= 0 or any(b <= a for a, b in pairwise(sizes)):
            raise ValueError(f"{self.venue}: knot sizes must be positive and strictly ascending")
        if any(other < 0 for _, other in self.knots) or self.penalty < 0:
            raise ValueError(f"{self.venue}: amounts and penalty must not be negative")
        if not 1 <= self.min_atoms <= self.max_atoms <= sizes[-1]:
            raise ValueError(f"{self.venue}: need 1 <= min_atoms <= max_atoms <= the last knot's size")


@dataclass(frozen=True, slots=True)
class Allocation:
    """Sizes per curve (input order) summing to the order, the total gain, and each used leg's marginal gain per
    size atom at its cut point (left slope of its concave gain curve; None for an unused venue)."""

    sizes: tuple[int, ...]
    gain: Fraction
    marginals: tuple[Fraction | None, ...]


@dataclass(frozen=True, slots=True)
class _Gain:
    """A concave piecewise-linear gain: breakpoints sizes[k] -> gains[k], starting at (0, 0)."""

    sizes: tuple[int, ...]
    gains: tuple[Fraction, ...]
    lo: int
    hi: int

    def at(self, x: int) -> Fraction:
        """Gain of a leg of x atoms (0 <= x <= last breakpoint), interpolated exactly."""
        k = bisect_left(self.sizes, x)
        if self.sizes[k] == x:
            return self.gains[k]
        s0, s1, g0, g1 = self.sizes[k - 1], self.sizes[k], self.gains[k - 1], self.gains[k]
        return g0 + (g1 - g0) * (x - s0) / (s1 - s0)

    def left_slope(self, x: int) -> Fraction:
        """Slope of the segment that ends at or contains x (x > 0)."""
        k = bisect_left(self.sizes, x)
        return (self.gains[k] - self.gains[k - 1]) / (self.sizes[k] - self.sizes[k - 1])

    def segments(self) -> list[tuple[Fraction, int]]:
        """(slope, length in atoms) of the pieces between lo and hi, slopes non-increasing."""
        cuts = [self.lo, *(s for s in self.sizes if self.lo < s < self.hi), self.hi]
        return [((self.at(b) - self.at(a)) / (b - a), b - a) for a, b in pairwise(cuts) if b > a]


def other_at(curve: Curve, size_atoms: int) -> Fraction:
    """The curve's other-side amount for a leg of size_atoms, linearly interpolated from (0, 0) (unrounded)."""
    sizes = (0, *(s for s, _ in curve.knots))
    others = (0, *(o for _, o in curve.knots))
    k = bisect_left(sizes, size_atoms)
    if sizes[k] == size_atoms:
        return Fraction(others[k])
    return others[k - 1] + Fraction(others[k] - others[k - 1]) * (size_atoms - sizes[k - 1]) / (sizes[k] - sizes[k - 1])


def gain_curve(curve: Curve, maximize: bool, lo: int, hi: int) -> _Gain:
    """The concave gain of a curve: ±other − penalty·size, each slope capped by the running minimum of those before."""
    sign = 1 if maximize else -1
    sizes, gains, prev_s, prev_raw, running = [0], [Fraction(0)], 0, Fraction(0), None
    for size, other in curve.knots:
        raw = sign * other - curve.penalty * size
        slope = (raw - prev_raw) / (size - prev_s)
        running = slope if running is None else min(running, slope)
        sizes.append(size)
        gains.append(gains[-1] + running * (size - prev_s))
        prev_s, prev_raw = size, raw
    return _Gain(tuple(sizes), tuple(gains), lo, hi)


def _fill(gains: dict[int, _Gain], pieces: list[tuple[int, int]], total_atoms: int
          ) -> tuple[dict[int, int], Fraction] | None:
    """Exact optimum of legs within [lo, hi] summing to total_atoms: start each at lo, then add the pieces (curve,
    length), already in falling slope order, of the curves in `gains`; None if infeasible."""
    sizes = {i: g.lo for i, g in gains.items()}
    rest = total_atoms - sum(sizes.values())
    if rest < 0 or rest > sum(g.hi - g.lo for g in gains.values()):
        return None
    for i, length in pieces:
        if rest == 0:
            break
        if i in sizes:
            take = min(length, rest)
            sizes[i] += take
            rest -= take
    return sizes, sum((g.at(sizes[i]) for i, g in gains.items()), Fraction(0))


def allocate(curves: list[Curve], total_atoms: int, *, maximize: bool, min_leg_atoms: int = 1) -> Allocation | None:
    """Best split of total_atoms over the curves (each leg 0 or in [max(min, min_leg), max]); None if none fits.

    Ties prefer fewer legs, then the earlier curves. With more than MAX_SPLIT_VENUES curves only the first
    MAX_SPLIT_VENUES take part (callers pass them best first).
    """
    if total_atoms <= 0:
        raise ValueError("total_atoms must be positive")
    gains: dict[int, _Gain] = {}
    for i, c in enumerate(curves[:MAX_SPLIT_VENUES]):
        lo, hi = max(c.min_atoms, min_leg_atoms), min(c.max_atoms, total_atoms)
        if lo <= hi:
            gains[i] = gain_curve(c, maximize, lo, hi)
    ranked = sorted(((slope, i, k, length) for i, g in gains.items() for k, (slope, length) in enumerate(g.segments())),
                    key=lambda p: (-p[0], p[1], p[2]))  # once: every subset takes its pieces in this order
    pieces = [(i, length) for _, i, _, length in ranked]
    best: tuple[Fraction, dict[int, int]] | None = None
    for n in range(1, len(gains) + 1):
        for subset in combinations(sorted(gains), n):
            found = _fill({i: gains[i] for i in subset}, pieces, total_atoms)
            if found is not None and (best is None or found[1] > best[0]):
                best = (found[1], found[0])
    if best is None:
        return None
    sizes, marginals = [0] * len(curves), [None] * len(curves)
    for i, size in best[1].items():
        sizes[i], marginals[i] = size, gains[i].left_slope(size)
    return Allocation(tuple(sizes), best[0], tuple(marginals))
