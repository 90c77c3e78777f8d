"""Transaction-cost analysis, pure: implementation shortfall against the arrival mid split into impact, fees, spread
and timing; markouts of the reference price after the fill; savings against named benchmarks; a TWAP benchmark.

Stdlib and core only. Amounts are integer atoms of the order's *other* side (output for ExactIn, input for ExactOut),
as savings are; bps are Decimal at BPS_PLACES. A cost is never understated (shortfall rounds up), a saving never
overstated (savings round down, a benchmark's fill rounds in the benchmark's favour).
"""
from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from fractions import Fraction
from math import ceil, gcd

from core import allocator
from core.orders import Order
from core.router import fair_rate
from core.units import BPS, BPS_PLACES, bps_of, saved_atoms
from core.venue import Venue, VenueKind

MARKOUT_HORIZONS_S = (1, 10, 60, 300)  # markouts of the reference price this long after the fill
BENCHMARKS = ("jupiter_one_shot", "best_single_venue", "twap")  # the named benchmarks every fill is measured against
COMPONENTS = ("impact", "fees", "spread", "timing")


def _bps(value: Fraction, rounding: str) -> Decimal:
    """A Fraction of bps as Decimal at BPS_PLACES with the given rounding."""
    with localcontext() as ctx:
        ctx.prec = 50
        return (Decimal(value.numerator) / value.denominator).quantize(BPS_PLACES, rounding=rounding)


def fair_atoms(order: Order, arrival_mid: Decimal) -> Fraction:
    """What the order's fixed amount is worth at the arrival mid, in other-side atoms (unrounded)."""
    return fair_rate(order, arrival_mid) * order.amount_atoms


def shortfall_of(order: Order, arrival_mid: Decimal, in_atoms: int, out_atoms: int) -> Fraction:
    """Implementation shortfall in other-side atoms (unrounded): output short of the arrival value (ExactIn) or
    input paid above it (ExactOut); positive is a cost."""
    fair = fair_atoms(order, arrival_mid)
    return fair - out_atoms if order.exact_in else in_atoms - fair


def shortfall(order: Order, arrival_mid: Decimal, in_atoms: int, out_atoms: int) -> tuple[int, Decimal]:
    """(shortfall atoms rounded up, shortfall bps of the arrival value rounded up to 0.0001)."""
    lost = shortfall_of(order, arrival_mid, in_atoms, out_atoms)
    return ceil(lost), _bps(lost * BPS / fair_atoms(order, arrival_mid), ROUND_CEILING)


@dataclass(frozen=True, slots=True)
class LegCost:
    """One decided leg: venue, atoms in/out, its fee in other-side atoms, and (Jupiter) its fee share in bps."""

    venue: str
    in_amount_atoms: int
    out_amount_atoms: int
    fee_atoms: int = 0
    fee_share: Decimal = Decimal(0)  # the share of a Jupiter leg's cost that is fees (0..1)


def decided_components(order: Order, arrival_mid: Decimal, legs: Sequence[LegCost]) -> dict[str, Decimal]:
    """impact, fees and spread of the decided legs in bps of the arrival value (each rounded up).

    A dealer leg's shortfall is its fee plus its spread (the dealer's spread prices its own delay); a Jupiter leg's
    is its fee (fee_share of its cost: for a split's leg the full-order quote's share) plus price impact. Timing is
    what the fill adds later."""
    rate, fair = fair_rate(order, arrival_mid), fair_atoms(order, arrival_mid)
    impact = fees = spread = Fraction(0)
    for leg in legs:
        size, other = ((leg.in_amount_atoms, leg.out_amount_atoms) if order.exact_in
                       else (leg.out_amount_atoms, leg.in_amount_atoms))
        leg_fair = rate * size
        lost = leg_fair - other if order.exact_in else other - leg_fair
        if Venue.parse(leg.venue).kind is VenueKind.JUPITER:
            fee = max(lost, Fraction(0)) * Fraction(leg.fee_share)
            fees, impact = fees + fee, impact + lost - fee
        else:
            fees, spread = fees + leg.fee_atoms, spread + lost - leg.fee_atoms
    return {"impact": _bps(impact * BPS / fair, ROUND_CEILING), "fees": _bps(fees * BPS / fair, ROUND_CEILING),
            "spread": _bps(spread * BPS / fair, ROUND_CEILING)}


def components(shortfall_bps: Decimal, decided: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """The four components of a fill's shortfall: the decided impact, fees and spread, and timing as the rest (what
    moved between decision and fill: a re-quoted Jupiter leg), so the four add up to shortfall_bps exactly."""
    parts = {k: decided[k] for k in ("impact", "fees", "spread")}
    return {**parts, "timing": shortfall_bps - sum(parts.values(), Decimal(0))}


def savings_vs(order: Order, in_atoms: int, out_atoms: int, benchmark: tuple[int, int] | None
               ) -> tuple[int, Decimal] | None:
    """(saved atoms, saved bps rounded down) of a fill against a benchmark's (in, out) atoms; None without one."""
    if benchmark is None or not (benchmark[1] if order.exact_in else benchmark[0]):
        return None
    saved, base = saved_atoms(order.swap_mode, in_atoms, out_atoms, *benchmark)
    return saved, bps_of(saved, base)


def markout_bps(order: Order, arrival_mid: Decimal, later_mid: Decimal) -> Decimal:
    """A markout: how the reference price moved from the arrival mid to h seconds after the fill, as the change in
    value of the order's fixed amount, in bps of its arrival value, rounded down; positive when it moved the desk's
    way (it sold before a fall, bought before a rise), negative against it (adverse selection). The fill against the
    later mid is this minus the shortfall."""
    arrival, later = fair_atoms(order, arrival_mid), fair_atoms(order, later_mid)
    gained = arrival - later if order.exact_in else later - arrival
    return _bps(gained * BPS / arrival, ROUND_FLOOR)


def twap_fill(order: Order, curve: allocator.Curve, slices: int, survive: Fraction) -> tuple[int, int] | None:
    """(in, out) atoms of a TWAP of the order in `slices` equal slices on a venue's cost curve with resilience.

    The curve's other side at size x is the cumulative fill of x from today's state; a slice fills from the impact
    left by the earlier ones (a residual size r: C(r+q) − C(r)), and between slices the residual decays to
    `survive` of itself (2^(−interval/half-life): arbitrage pulls the pools back). Price drift over the horizon has
    zero mean and is not charged. Rounded in the benchmark's favour (output up, input down); None if the curve is
    too short for the order. Exact: rationals as integer (numerator, denominator) pairs, reduced once per slice.
    """
    if slices < 1 or curve.knots[-1][0] < order.amount_atoms:
        return None
    base, extra = divmod(order.amount_atoms, slices)
    keep, over = survive.numerator, survive.denominator
    res_n, res_d, tot_n, tot_d = 0, 1, 0, 1  # the residual size and the total fill, as n/d
    for i in range(slices):
        q = base + (1 if i < extra else 0)
        cap = order.amount_atoms - q
        start_n, start_d = (res_n, res_d) if res_n <= cap * res_d else (cap, 1)
        end_n = start_n + q * start_d
        hi_n, hi_d = _other(curve, end_n, start_d)
        lo_n, lo_d = _other(curve, start_n, start_d)
        tot_n, tot_d = tot_n * hi_d * lo_d + (hi_n * lo_d - lo_n * hi_d) * tot_d, tot_d * hi_d * lo_d
        common = gcd(tot_n, tot_d)
        tot_n, tot_d = tot_n // common, tot_d // common
        res_n, res_d = end_n * keep, start_d * over
        common = gcd(res_n, res_d)  # keep the residual's terms small: they would grow every slice
        res_n, res_d = res_n // common, res_d // common
    if order.exact_in:
        return order.amount_atoms, -(-tot_n // tot_d)
    return tot_n // tot_d, order.amount_atoms


def _other(curve: allocator.Curve, size_n: int, size_d: int) -> tuple[int, int]:
    """The curve's other side at the size size_n/size_d (linear between knots from (0, 0)), as (numerator,
    denominator): allocator.other_at at a rational size."""
    knots = curve.knots
    whole, part = divmod(size_n, size_d)
    k = bisect_left(knots, whole, key=_size_of)
    if part and knots[k][0] == whole:  # strictly above that knot: the next segment
        k += 1
    s1, o1 = knots[k]
    if not part and s1 == whole:
        return o1, 1
    s0, o0 = knots[k - 1] if k else (0, 0)
    width = s1 - s0
    return o0 * width * size_d + (o1 - o0) * (size_n - s0 * size_d), width * size_d


def _size_of(knot: tuple[int, int]) -> int:
    """A knot's size."""
    return knot[0]


def survive_fraction(interval_s: float, half_life_s: float) -> Fraction:
    """Share of a price displacement left after interval_s with a half-life (0 half-life: none is left)."""
    if half_life_s <= 0:
        return Fraction(0)
    return Fraction(2 ** (-interval_s / half_life_s)).limit_denominator(10**12)
