"""RFQ makers' answers as data, a maker's cost curve, and a route that fills maker legs only at quoted sizes.

Pure: stdlib and the router only. A maker quotes a few sizes of the order's fixed side; each answer is firm for
exactly that size. The allocator searches over a curve through those points (implicitly from (0, 0), made concave
by the allocator's slope cap), but a leg is only ever filled at a quoted size at exactly the quoted amounts: a leg
the allocator puts between two quoted sizes is snapped down to the largest quoted size below it and the route is
decided again (the rest goes to the other venues). A firm quote carries no timing-risk charge.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from core import allocator, router
from core.curves import VenueCurve, price_leg
from core.orders import Decision, Leg, Order, VenueOption
from core.units import BPS

MAX_SIZES_PER_MAKER = 4  # at most 4 quote requests per maker per order
SIZE_SHIFTS = (0, 1, 2, 3)  # the full size, 1/2, 1/4 and 1/8 of it


class Refusal(StrEnum):
    """Why a maker's answer was not used (recorded on the quote and in the maker's scorecard)."""

    NO_QUOTE = "no_quote"  # 404: the maker declines this request
    LATE = "late"  # no answer within the maker's timeout / the window
    MALFORMED = "malformed"  # not JSON, or fields missing or of the wrong type
    WRONG_MINTS = "wrong_mints"  # answered for other mints or another quote type
    WRONG_AMOUNT = "wrong_amount"  # answered for another amount than asked
    WRONG_ID = "wrong_id"  # answered another request or quote id
    OUT_OF_BAND = "out_of_band"  # price outside the desk's band around the reference price
    ERROR = "error"  # 400/401/5xx from the maker
    UNREACHABLE = "unreachable"  # connection refused, DNS, reset
    UNPAIRED = "unpaired"  # the maker's /tokens does not list both mints (not asked)


FAILURES = frozenset({Refusal.LATE, Refusal.MALFORMED, Refusal.ERROR, Refusal.UNREACHABLE, Refusal.WRONG_ID})


@dataclass(frozen=True, slots=True)
class MakerQuote:
    """A maker's firm answer for one size of the order's fixed side (atoms), with its Jupiter Z ids."""

    venue: str
    size_atoms: int
    in_amount_atoms: int
    out_amount_atoms: int
    request_id: str
    quote_id: str
    maker: str  # the maker's own identity as it answered (a pubkey in Jupiter Z)
    latency_ms: int


@dataclass(frozen=True, slots=True)
class MakerRefusal:
    """A maker's answer (or silence) for one size that was refused, with the code and a sentence."""

    venue: str
    size_atoms: int
    code: Refusal
    reason: str
    latency_ms: int | None = None


def request_sizes(amount_atoms: int) -> list[int]:
    """The sizes to ask each maker: the full order, then halves down to 1/8 (distinct, positive, at most 4)."""
    sizes = [amount_atoms >> k for k in SIZE_SHIFTS]
    return sorted({s for s in sizes if s > 0}, reverse=True)[:MAX_SIZES_PER_MAKER]


def maker_curve(quotes: Sequence[MakerQuote], delay_ms: int = 0) -> VenueCurve | None:
    """One maker's curve through its answered sizes (size, other side), firm, no risk charge; None without any."""
    if not quotes:
        return None
    venue = quotes[0].venue
    exact_in = all(q.size_atoms == q.in_amount_atoms for q in quotes)
    knots = tuple(sorted((q.size_atoms, q.out_amount_atoms if exact_in else q.in_amount_atoms) for q in quotes))
    return VenueCurve(venue, knots, knots[0][0], knots[-1][0], Decimal(0), delay_ms)


def firm_points(quotes: Sequence[MakerQuote]) -> dict[tuple[str, int], tuple[int, int]]:
    """(venue, size) -> the quoted (in, out) atoms: the only legs a maker fills."""
    return {(q.venue, q.size_atoms): (q.in_amount_atoms, q.out_amount_atoms) for q in quotes}


def _size(order: Order, leg: Leg) -> int:
    """A leg's size on the order's fixed side."""
    return leg.in_amount_atoms if order.exact_in else leg.out_amount_atoms


def _snapped(curve: VenueCurve, leg_atoms: int, sizes: set[int]) -> VenueCurve | None:
    """The curve fixed at the largest quoted size at or below leg_atoms (fill that or nothing); None if none."""
    below = [s for s in sizes if s <= leg_atoms]
    if not below:
        return None
    q = max(below)
    knots = tuple(k for k in curve.knots if k[0] <= q)
    return VenueCurve(curve.venue, knots, q, q, curve.risk_bps, curve.delay_ms, curve.book)


def decide(order: Order, options: Sequence[VenueOption], curves: Sequence[VenueCurve], mid_price: Decimal,
           firm: Mapping[tuple[str, int], tuple[int, int]], quoted: Mapping[str, set[int]],
           plans: router.Plans | None = None) -> Decision:
    """router.decide with every maker leg at a quoted size: off-size maker legs are snapped down and decided again
    (`plans`: the quote's allocations, reused for curves already cut)."""
    plans = plans if plans is not None else router.Plans()
    current = list(curves)
    for _ in range(len(quoted) + 1):
        d = router.decide(order, options, current, mid_price, firm, plans)
        off = {leg.venue: _size(order, leg) for leg in d.legs
               if leg.venue in quoted and _size(order, leg) not in quoted[leg.venue]}
        if not off:
            return d
        fixed = [_snapped(c, off[c.venue], quoted[c.venue]) if c.venue in off else c for c in current]
        current = [c for c in fixed if c is not None]
    return router.decide(order, options, [c for c in current if c.venue not in quoted], mid_price, firm, plans)


def same_size_costs(order: Order, leg: Leg, options: Sequence[VenueOption], curves: Sequence[VenueCurve],
                    mid_price: Decimal, firm: Mapping[tuple[str, int], tuple[int, int]]) -> dict[str, Decimal]:
    """What every other venue would have cost (all-in bps, rounded up) for this leg's size at decision time.

    A whole-order leg compares with the other venues' options; a split leg with each other venue's curve cut at the
    leg's size (an OTC pool's exact price, Jupiter's curve estimate, another maker only where it quoted that very
    size), so a small leg is never flattered by the impact of the whole order on its rivals.
    """
    size = _size(order, leg)
    if size == order.amount_atoms:
        return {o.venue: o.cost_bps for o in options
                if o.available and o.venue != leg.venue and o.cost_bps is not None}
    rate, costs = router.fair_rate(order, mid_price), {}
    for c in curves:
        if c.venue == leg.venue or not c.min_atoms <= size <= c.max_atoms:
            continue
        if c.venue.startswith("rfq:") and (c.venue, size) not in firm:
            continue  # a maker is firm only at the sizes it answered
        line = allocator.Curve(c.venue, c.knots, c.min_atoms, c.max_atoms, rate * Fraction(c.risk_bps) / BPS)
        priced = price_leg(c, line, size, order.input_token.mint, order.output_token.mint, order.swap_mode, firm)
        if priced is None:
            continue
        cost = router.priced_option(order, c.venue, priced[0], priced[1], mid_price, risk_bps=c.risk_bps,
                                    delay_ms=priced[3]).cost_bps
        if cost is not None:
            costs[c.venue] = cost
    return costs


def improvement_bps(order: Order, leg: Leg, options: Sequence[VenueOption], curves: Sequence[VenueCurve],
                    mid_price: Decimal, firm: Mapping[tuple[str, int], tuple[int, int]]) -> Decimal | None:
    """A maker leg's all-in cost advantage (bps) over the best other venue at the same leg size; None without one."""
    costs = same_size_costs(order, leg, options, curves, mid_price, firm)
    if not costs or leg.cost_bps is None:
        return None
    return min(costs.values()) - leg.cost_bps
