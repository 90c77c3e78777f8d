"""Split allocation: cut one order into integer legs across venues' concave value curves at the least all-in cost.

Pure: stdlib only. A size is integer atoms of the order's fixed side (input for ExactIn, output for ExactOut); the
curve's other side (output received, or input paid) is interpolated linearly between knots, as an exact Fraction.
Each venue's gain is +other (ExactIn, maximised) or -other (ExactOut), minus a linear all-in charge per size atom.
Gain curves are made concave by capping each segment's slope at the running minimum (never above the data: a
conservative curve). Then, for every subset of venues (each leg 0 or within [min, max]), a greedy fill by slope from
the venues' lower bounds is the exact optimum of the piecewise-linear model, and the best subset wins. That optimum
sits on a knot; for curves sampled from smooth venues (`smooth`), the chosen legs then move, pair by pair, to where
their smoothed marginals meet (slopes at segment midpoints, linear between, a step at a kink).
"""
from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations, pairwise

MAX_SPLIT_VENUES = 8  # subsets are enumerated: at most 2^8 - 1 of them
KINK_RATIO = 4  # a slope drop this many times its neighbours' is a kink: the smoothed marginal steps there
Points = tuple[list[int], list[int], list[int]]  # a smoothed marginal: doubled sizes, marginal gains as n / d


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
    """A concave piecewise-linear gain: breakpoints sizes[k] -> gains[k], starting at (0, 0); slopes[k-1] is the
    slope of the segment ending at sizes[k] (non-increasing)."""

    sizes: tuple[int, ...]
    gains: tuple[Fraction, ...]
    lo: int
    hi: int
    slopes: tuple[Fraction, ...] = ()

    def at(self, x: int) -> Fraction:
        """Gain of a leg of x atoms (0 <= x <= last breakpoint), interpolated exactly."""
        k = bisect_left(self.sizes, x)
        if self.sizes[k] == x:
            return self.gains[k]
        return self.gains[k - 1] + self.slopes[k - 1] * (x - self.sizes[k - 1])

    def left_slope(self, x: int) -> Fraction:
        """Slope of the segment that ends at or contains x (x > 0)."""
        return self.slopes[bisect_left(self.sizes, x) - 1]

    def segments(self) -> list[tuple[Fraction, int]]:
        """(slope, length in atoms) of the pieces between lo and hi, slopes non-increasing."""
        cuts = [self.lo, *(s for s in self.sizes if self.lo < s < self.hi), self.hi]
        return [(self.left_slope(b), b - a) for a, b in pairwise(cuts) if b > a]

    def smoothing(self) -> Points:
        """Points (doubled size, marginal gain as numerator and denominator) of the smoothed marginal: each segment's
        slope at its midpoint, linear in between, flat beyond the ends (a second-order estimate of a smooth concave
        curve's slope); at a kink (a slope drop KINK_RATIO times its neighbours', e.g. a route running out of depth)
        a step at the knot instead. Whole numbers throughout: the search compares by cross-multiplying."""
        sizes = self.sizes
        ns, ds = [s.numerator for s in self.slopes], [s.denominator for s in self.slopes]
        drops = [(ns[k - 1] * ds[k] - ns[k] * ds[k - 1], ds[k - 1] * ds[k]) for k in range(1, len(ns))]
        xs: list[int] = []
        out_n: list[int] = []
        out_d: list[int] = []
        for k in range(len(ns)):
            if k and _kink(drops, k - 1):
                xs += [2 * sizes[k], 2 * sizes[k]]
                out_n += [ns[k - 1], ns[k]]
                out_d += [ds[k - 1], ds[k]]
            xs.append(sizes[k] + sizes[k + 1])
            out_n.append(ns[k])
            out_d.append(ds[k])
        return xs, out_n, out_d


def _kink(drops: list[tuple[int, int]], j: int) -> bool:
    """True when the slope drop drops[j] (numerator, positive denominator) is KINK_RATIO times each neighbouring
    drop (at least one neighbour)."""
    n, d = drops[j]
    around = [drops[i] for i in (j - 1, j + 1) if 0 <= i < len(drops)]
    return bool(around) and n > 0 and all(n * e > KINK_RATIO * m * d for m, e in around)


def _at(points: Points, probe: int | Fraction, x2: int) -> tuple[int, int]:
    """The smoothed marginal at x2 (doubled size) on the linear piece holding `probe` (at a step: the piece before
    it), as (numerator, positive denominator); flat beyond the ends."""
    xs, ns, ds = points
    k = bisect_left(xs, probe)
    if k == 0 or k == len(xs):
        k = 0 if k == 0 else len(xs) - 1
        return ns[k], ds[k]
    x0, x1, n0, n1, d0, d1 = xs[k - 1], xs[k], ns[k - 1], ns[k], ds[k - 1], ds[k]
    if x0 == x1:
        return n1, d1
    return n0 * d1 * (x1 - x2) + n1 * d0 * (x2 - x0), d0 * d1 * (x1 - x0)


def smooth_marginal(points: Points, x2: int) -> Fraction:
    """A smoothed marginal (points from _Gain.smoothing()) at x2 (doubled size; at a step, the value before it)."""
    return Fraction(*_at(points, x2, x2))


def other_at(curve: Curve, size_atoms: int) -> Fraction:
    """The curve's other-side amount for a leg of size_atoms, linearly interpolated from (0, 0) (unrounded)."""
    knots = curve.knots
    k = bisect_left(knots, size_atoms, key=_size_of)  # no per-call copy of the knots
    s1, o1 = knots[k]
    if s1 == size_atoms:
        return Fraction(o1)
    s0, o0 = knots[k - 1] if k else (0, 0)
    return o0 + Fraction(o1 - o0) * (size_atoms - s0) / (s1 - s0)


def _size_of(knot: tuple[int, int]) -> int:
    """A knot's size."""
    return knot[0]


def gain_curve(curve: Curve, maximize: bool, lo: int, hi: int) -> _Gain:
    """The concave gain of a curve: ±other − penalty·size, each slope capped by the running minimum of those before.

    Computed on integers scaled by the penalty's denominator q (raw gains q·(±other) − p·size are whole numbers),
    a segment's slope as the pair (rise, run): one Fraction per knot instead of a chain of them."""
    sign, p, q = (1 if maximize else -1), curve.penalty.numerator, curve.penalty.denominator
    sizes, gains, slopes = [0], [Fraction(0)], []
    prev_s, prev_raw, run_n, run_d, capped = 0, 0, 0, 0, False
    for size, other in curve.knots:
        raw = sign * other * q - p * size
        rise, step = raw - prev_raw, size - prev_s
        if run_d == 0 or rise * run_d <= run_n * step:  # steeper segments are capped at the running minimum
            run_n, run_d = rise, step
        else:
            capped = True
        slope = Fraction(run_n, run_d * q)
        sizes.append(size)
        slopes.append(slope)
        if capped:
            gains.append(gains[-1] + slope * step)
        else:  # never capped so far: the gain is the raw data, exactly
            gains.append(Fraction(raw, q))
        prev_s, prev_raw = size, raw
    return _Gain(tuple(sizes), tuple(gains), lo, hi, tuple(slopes))


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


def _ranked(segments: dict[int, list[tuple[Fraction, int]]]) -> list[tuple[int, int]]:
    """(curve, length) of every piece by falling slope, ties to the earlier curve then the earlier piece: a merge of
    the curves' own lists (each already non-increasing), comparing slopes once per piece (as whole numbers:
    cross-multiplied numerators and positive denominators, no Fraction arithmetic)."""
    keyed = {i: [(s.numerator, s.denominator, length) for s, length in segs] for i, segs in segments.items() if segs}
    heads = dict.fromkeys(keyed, 0)
    out: list[tuple[int, int]] = []
    while heads:
        best, best_n, best_d = -1, 0, 1
        for i, k in heads.items():  # dict order is curve order: the first of equal slopes wins
            n, d, _ = keyed[i][k]
            if best < 0 or n * best_d > best_n * d:
                best, best_n, best_d = i, n, d
        k = heads[best]
        out.append((best, keyed[best][k][2]))
        if k + 1 < len(keyed[best]):
            heads[best] = k + 1
        else:
            del heads[best]
    return out


def _pair_cut(a: _Gain, b: _Gain, total_atoms: int, pa: Points, pb: Points) -> int | None:
    """Atoms of `a` when a and b share total_atoms where their smoothed marginals meet (rounded to the nearer atom),
    within both legs' bounds; None when no cut is legal. h(x) = m_a(x) − m_b(total − x) is non-increasing and linear
    between the breakpoints (a's points, total − b's): a bisection over those breakpoints, then one exact linear step
    (or the breakpoint itself where h steps across zero). Works on doubled sizes (whole numbers)."""
    lo, hi = max(a.lo, total_atoms - b.hi), min(a.hi, total_atoms - b.lo)
    if lo > hi:
        return None
    t2, lo2, hi2 = 2 * total_atoms, 2 * lo, 2 * hi

    def h(x2: int, probe: int | Fraction | None = None) -> tuple[int, int]:  # m_a − m_b as (numerator, denominator)
        (an, ad), (bn, bd) = _at(pa, x2 if probe is None else probe, x2), _at(pb, t2 - (x2 if probe is None else probe),
                                                                                 t2 - x2)
        return an * bd - bn * ad, ad * bd

    points = sorted({lo2, hi2, *(x for x in pa[0] if lo2 < x < hi2), *(t2 - x for x in pb[0] if lo2 < t2 - x < hi2)})
    if h(points[0])[0] <= 0:
        return lo
    if h(points[-1])[0] >= 0:
        return hi
    i, j = 0, len(points) - 1  # h(points[i]) > 0 >= h(points[j])
    while j - i > 1:
        k = (i + j) // 2
        i, j = (k, j) if h(points[k])[0] > 0 else (i, k)
    p_i, p_j = points[i], points[j]
    probe = Fraction(p_i + p_j, 2)  # inside (p_i, p_j) both marginals are one linear piece each
    after_i, before_j = Fraction(*h(p_i, probe)), Fraction(*h(p_j, probe))
    if after_i <= 0:
        root2: Fraction | int = p_i
    elif before_j >= 0:
        root2 = p_j
    else:
        root2 = p_i + (p_j - p_i) * after_i / (after_i - before_j)
    return min(hi, max(lo, int((root2 + 1) / 2)))  # the nearer whole atom


def smoothed(gains: dict[int, _Gain], sizes: dict[int, int], shapes: dict[int, Points]) -> dict[int, int]:
    """The legs of the curves in `shapes` (their smoothed marginals) moved, pair by pair, to where those marginals
    meet (each pair keeps its total): a piecewise-linear optimum sits at a knot, the smooth curves' between knots."""
    out = dict(sizes)
    for x, y in combinations(sorted(shapes), 2):
        cut = _pair_cut(gains[x], gains[y], out[x] + out[y], shapes[x], shapes[y])
        if cut is not None:
            out[x], out[y] = cut, out[x] + out[y] - cut
    return out


def allocate(curves: list[Curve], total_atoms: int, *, maximize: bool, min_leg_atoms: int = 1,
             smooth: frozenset[int] = frozenset()) -> Allocation | None:
    """Best split of total_atoms over the curves (each leg 0 or in [max(min, min_leg), max]); None if none fits.

    Ties prefer fewer legs, then the earlier curves. With more than MAX_SPLIT_VENUES curves only the first
    MAX_SPLIT_VENUES take part (callers pass them best first). The result is exact on the piecewise-linear model;
    `smooth` names the curves (indices) sampled from a smooth concave venue whose legs are then moved to where the
    smoothed marginals meet (smoothed(); marginals reported from the smoothed curve).
    """
    if total_atoms <= 0:
        raise ValueError("total_atoms must be positive")
    gains: dict[int, _Gain] = {}
    for i, c in enumerate(curves[:MAX_SPLIT_VENUES]):
        lo, hi = max(c.min_atoms, min_leg_atoms), min(c.max_atoms, total_atoms)
        if lo <= hi:
            gains[i] = gain_curve(c, maximize, lo, hi)
    pieces = _ranked({i: g.segments() for i, g in gains.items()})  # once: every subset takes them in this order
    best: tuple[Fraction, dict[int, int]] | None = None
    for n in range(1, len(gains) + 1):
        for subset in combinations(sorted(gains), n):
            found = _fill({i: gains[i] for i in subset}, pieces, total_atoms)
            if found is not None and (best is None or found[1] > best[0]):
                best = (found[1], found[0])
    if best is None:
        return None
    cut, gain = best[1], best[0]
    shapes = {i: gains[i].smoothing() for i in cut if i in smooth and cut[i]}
    if len(shapes) >= 2:
        cut = smoothed(gains, cut, shapes)
        gain = sum((gains[i].at(x) for i, x in cut.items() if x), Fraction(0))
    sizes, marginals = [0] * len(curves), [None] * len(curves)
    for i, size in cut.items():
        if size:
            sizes[i] = size
            marginals[i] = smooth_marginal(shapes[i], 2 * size) if i in shapes else gains[i].left_slope(size)
    return Allocation(tuple(sizes), gain, tuple(marginals))
