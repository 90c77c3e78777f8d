"""The route decision: all-in cost of each venue against the reference mid, the choice (one venue or a split), savings.

Pure: no Flask, SQL, HTTP, clock or randomness. Amounts are integer atoms; costs are Decimal bps.
A split cuts the order across venues' cost curves (allocator.py) and is taken only when its all-in result beats the
best single venue; OTC legs are re-priced exactly by the pool engine, a Jupiter leg by a firm quote when given.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_CEILING, Decimal, localcontext
from fractions import Fraction
from typing import Any

from core import allocator, explanations
from core.curves import VenueCurve, marginal_bps, price_leg
from core.orders import Decision, Leg, NoRouteAvailable, Order, VenueOption
from core.otc_types import vol_spread_bps
from core.tokens import Token
from core.units import BPS, BPS_PLACES, bps_of, max_in, min_out, saved_atoms
from core.venue import Venue, VenueKind, kind_of

MIN_LEG_PCT = 1  # no split leg below 1 % of the order: no dust legs
MIN_SPLIT_GAIN_BPS = Decimal("0.01")  # a split must beat the best single venue by this share of the order's value


def mid_value_atoms(amount_atoms: int, mid_price: Decimal, from_token: Token, to_token: Token) -> Decimal:
    """Exact value at mid of `amount_atoms` of from_token, in to_token atoms (unrounded)."""
    with localcontext() as ctx:
        ctx.prec = 60
        return Decimal(amount_atoms) * mid_price * Decimal(1).scaleb(to_token.decimals - from_token.decimals)


def delay_risk_bps(annual_vol_pct: Decimal, z: Decimal, delay_ms: int) -> Decimal:
    """Price risk carried over the execution delay: z·σ·√delay in bps (σ per √second), rounded up to 0.0001.

    The same formula the OTC dealers use for their volatility add-on (otc_types.vol_spread_bps).
    """
    return vol_spread_bps(annual_vol_pct, z, delay_ms)


def timing_risk_bps(venue: str, annual_vol_pct: Decimal, z: Decimal, delay_ms: int) -> Decimal:
    """The desk's timing-risk charge on a venue, in bps: z·σ·√delay for a venue whose price is not firm over its delay
    (Jupiter), 0 for a dealer (otc:/rfq:), whose firm quote already prices its delay in its spread: never charged twice.
    """
    return Decimal(0) if Venue.parse(venue).is_dealer else delay_risk_bps(annual_vol_pct, z, delay_ms)


def priced_option(order: Order, venue: str, in_atoms: int, out_atoms: int, mid_price: Decimal, *,
                  risk_bps: Decimal, delay_ms: int, **extra: Any) -> VenueOption:
    """A venue option with its execution cost vs mid plus the delay-risk charge, all in bps.

    mid_price is output tokens per input token (human units). ExactIn cost = output lost vs mid;
    ExactOut cost = input paid above mid. Both quantized to 0.0001 bps, rounding up (against the venue).
    """
    with localcontext() as ctx:
        ctx.prec = 60
        if order.exact_in:
            fair = mid_value_atoms(in_atoms, mid_price, order.input_token, order.output_token)
            execution = (fair - out_atoms) / fair * BPS
        else:
            fair = Decimal(out_atoms) / mid_value_atoms(1, mid_price, order.input_token, order.output_token)
            execution = (Decimal(in_atoms) - fair) / fair * BPS
        execution = execution.quantize(BPS_PLACES, rounding=ROUND_CEILING)
    return VenueOption(venue=venue, available=True, in_amount_atoms=in_atoms, out_amount_atoms=out_atoms,
                       delay_ms=delay_ms, execution_cost_bps=execution, delay_risk_bps=risk_bps,
                       cost_bps=execution + risk_bps, **extra)


def unavailable(venue: str, reason: str, *, down: bool = False) -> VenueOption:
    """A venue that cannot serve this order, with the reason a trader reads; `down` when the venue itself failed."""
    return VenueOption(venue=venue, available=False, reason=reason, down=down)


def _rank(option: VenueOption) -> tuple[Decimal, int, int, int, str]:
    """Sort key: lowest all-in cost, then more output, less input, shorter delay, then venue name."""
    assert option.cost_bps is not None and option.in_amount_atoms is not None and option.out_amount_atoms is not None
    return option.cost_bps, -option.out_amount_atoms, option.in_amount_atoms, option.delay_ms, option.venue


def savings(
    order: Order, in_atoms: int, out_atoms: int, baseline: VenueOption | None
) -> tuple[int | None, Decimal | None]:
    """Savings vs a baseline route (Jupiter-only, best single): extra output (ExactIn) or input spared (ExactOut)."""
    if baseline is None or not baseline.available:
        return None, None
    assert baseline.in_amount_atoms is not None and baseline.out_amount_atoms is not None
    saved, base = saved_atoms(order.swap_mode, in_atoms, out_atoms, baseline.in_amount_atoms,
                              baseline.out_amount_atoms)
    return saved, bps_of(saved, base)


def decide(order: Order, options: Sequence[VenueOption], curves: Sequence[VenueCurve] = (),
           mid_price: Decimal | None = None, firm: Mapping[tuple[str, int], tuple[int, int]] | None = None,
           plans: Plans | None = None) -> Decision:
    """The cheapest all-in route: the best single venue, or a split over `curves` when that beats it.

    `firm` maps (venue, leg size atoms) to firm (in, out) atoms of legs re-quoted upstream (Jupiter); other
    non-OTC legs are priced from their curve. `plans` reuses the quote's allocations of the same curves (a firm
    re-decision cuts the order where the first decision did). Raises NoRouteAvailable when nothing can fill.
    """
    usable = [o for o in options if o.available]
    best = min(usable, key=_rank) if usable else None
    if curves and mid_price is not None:
        p = plans.plan(order, curves, mid_price) if plans is not None else plan(order, curves, mid_price)
        split = _split(order, options, p, mid_price, best, firm or {})
        if split is not None:
            return split
    if best is None:
        raise NoRouteAvailable({o.venue: o.reason or "unavailable" for o in options})
    assert best.in_amount_atoms is not None and best.out_amount_atoms is not None and best.cost_bps is not None
    d = _route(order, options, (Leg(best.venue, best.in_amount_atoms, best.out_amount_atoms, best.cost_bps),),
               best.cost_bps, best)
    return replace(d, explanation=explanations.single(order, best, usable, options))


def _route(order: Order, options: Sequence[VenueOption], legs: tuple[Leg, ...], cost_bps: Decimal,
           best: VenueOption | None) -> Decision:
    """A decision over legs: totals, guard amount, savings vs Jupiter-only and (for a split) vs the best single."""
    in_atoms, out_atoms = sum(leg.in_amount_atoms for leg in legs), sum(leg.out_amount_atoms for leg in legs)
    jupiter = next((o for o in options if o.venue == "jupiter" and o.available), None)
    saved_atoms, saved_bps = savings(order, in_atoms, out_atoms, jupiter)
    gain_atoms, gain_bps = savings(order, in_atoms, out_atoms, best) if len(legs) > 1 else (None, None)
    return Decision(
        legs=legs, in_amount_atoms=in_atoms, out_amount_atoms=out_atoms, cost_bps=cost_bps,
        min_out_amount_atoms=min_out(out_atoms, order.slippage_bps) if order.exact_in else None,
        max_in_amount_atoms=None if order.exact_in else max_in(in_atoms, order.slippage_bps),
        jupiter_only_in_amount_atoms=jupiter.in_amount_atoms if jupiter else None,
        jupiter_only_out_amount_atoms=jupiter.out_amount_atoms if jupiter else None,
        savings_atoms=saved_atoms, savings_bps=saved_bps, explanation="",
        best_single_venue=best.venue if best else None,
        best_single_in_amount_atoms=best.in_amount_atoms if best else None,
        best_single_out_amount_atoms=best.out_amount_atoms if best else None,
        best_single_cost_bps=best.cost_bps if best else None, split_gain_atoms=gain_atoms, split_gain_bps=gain_bps,
    )


def fair_rate(order: Order, mid_price: Decimal) -> Fraction:
    """Other-side atoms per amount atom at mid: output per input (ExactIn) or input per output (ExactOut).

    Held as a Fraction with a denominator under 10^18 (relative error below 10^-18): exact enough, and fast."""
    per_input = Fraction(mid_value_atoms(1, mid_price, order.input_token, order.output_token)).limit_denominator(10**18)
    return per_input if order.exact_in else 1 / per_input


def all_in_gain(order: Order, rate: Fraction, in_atoms: int, out_atoms: int, risk_bps: Decimal) -> Fraction:
    """What a fill is worth to the trader in other-side atoms: output (ExactIn) or −input, minus its risk charge."""
    size, other = (in_atoms, out_atoms) if order.exact_in else (out_atoms, -in_atoms)
    risk_n, risk_d = risk_bps.as_integer_ratio()
    den = rate.denominator * risk_d * BPS  # one Fraction from whole numbers (a chain of them costs 4x)
    return Fraction(other * den - rate.numerator * risk_n * size, den)


@dataclass(frozen=True, slots=True)
class Plan:
    """One allocation of an order over a set of curves: the curves sorted by venue, their allocator lines, the cut
    (None when nothing fits) and the fair rate it was made at."""

    ordered: list[VenueCurve]
    lines: list[allocator.Curve]
    found: allocator.Allocation | None
    rate: Fraction


@dataclass(slots=True)
class Plans:
    """The allocations of one quote, by the curves they cut (equal curves, equal cut): a decision and its
    re-decisions (the firm Jupiter leg, maker legs snapped to quoted sizes) allocate each set of curves once."""

    found: dict[tuple[Order, Decimal, tuple[VenueCurve, ...]], Plan] = field(default_factory=dict)
    runs: int = 0  # allocations actually made

    def plan(self, order: Order, curves: Sequence[VenueCurve], mid_price: Decimal) -> Plan:
        """The plan of these curves for this order at this mid, made now or reused."""
        key = (order, mid_price, tuple(curves))
        hit = self.found.get(key)
        if hit is None:
            hit = self.found[key] = plan(order, curves, mid_price)
            self.runs += 1
        return hit


def plan(order: Order, curves: Sequence[VenueCurve], mid_price: Decimal) -> Plan:
    """The optimal cut of the order over the curves (sorted by venue) at all-in cost, legs of at least MIN_LEG_PCT."""
    rate, ordered = fair_rate(order, mid_price), sorted(curves, key=lambda c: c.venue)
    lines = [allocator.Curve(c.venue, c.knots, c.min_atoms, c.max_atoms, rate * Fraction(c.risk_bps) / BPS)
             for c in ordered]
    smooth = frozenset(i for i, c in enumerate(ordered) if kind_of(c.venue) is not VenueKind.RFQ)  # makers: firm points
    found = allocator.allocate(lines, order.amount_atoms, maximize=order.exact_in,
                               min_leg_atoms=-(-order.amount_atoms * MIN_LEG_PCT // 100), smooth=smooth)
    return Plan(ordered, lines, found, rate)


def allocate(order: Order, curves: Sequence[VenueCurve], mid_price: Decimal
             ) -> tuple[list[VenueCurve], list[allocator.Curve], allocator.Allocation | None]:
    """The optimal cut of the order over the curves (sorted by venue), as (curves, allocator lines, allocation)."""
    p = plan(order, curves, mid_price)
    return p.ordered, p.lines, p.found


def _split(order: Order, options: Sequence[VenueOption], p: Plan, mid_price: Decimal,
           best: VenueOption | None, firm: Mapping[tuple[str, int], tuple[int, int]]) -> Decision | None:
    """The planned split, priced leg by leg; None unless it beats the best single venue."""
    rate, ordered, plain, found = p.rate, p.ordered, p.lines, p.found
    if found is None or sum(1 for size in found.sizes if size) < 2:
        return None
    legs, gain, weighted_risk = [], Fraction(0), Decimal(0)
    for curve, line, size, slope in zip(ordered, plain, found.sizes, found.marginals, strict=True):
        priced = price_leg(curve, line, size, order.input_token.mint, order.output_token.mint, order.swap_mode,
                           firm) if size else None
        if priced is None or slope is None:
            if size:
                return None  # the pool refused a leg its own curve allowed: no split
            continue
        in_atoms, out_atoms, fee_atoms, delay_ms = priced
        cost = priced_option(order, curve.venue, in_atoms, out_atoms, mid_price, risk_bps=curve.risk_bps,
                             delay_ms=delay_ms).cost_bps
        legs.append(Leg(curve.venue, in_atoms, out_atoms, cost, marginal_bps(order.exact_in, rate, slope), fee_atoms,
                        delay_ms))
        gain += all_in_gain(order, rate, in_atoms, out_atoms, curve.risk_bps)
        weighted_risk += size * curve.risk_bps
    if best is not None:
        assert best.in_amount_atoms is not None and best.out_amount_atoms is not None
        floor = all_in_gain(order, rate, best.in_amount_atoms, best.out_amount_atoms, best.delay_risk_bps or Decimal(0))
        if gain <= floor + rate * order.amount_atoms * Fraction(MIN_SPLIT_GAIN_BPS) / BPS:
            return None
    legs.sort(key=lambda leg: (-(leg.in_amount_atoms if order.exact_in else leg.out_amount_atoms), leg.venue))
    in_atoms, out_atoms = sum(leg.in_amount_atoms for leg in legs), sum(leg.out_amount_atoms for leg in legs)
    total = priced_option(order, "split", in_atoms, out_atoms, mid_price, delay_ms=max(x.delay_ms or 0 for x in legs),
                          risk_bps=(weighted_risk / order.amount_atoms).quantize(BPS_PLACES, ROUND_CEILING))
    assert total.cost_bps is not None
    d = _route(order, options, tuple(legs), total.cost_bps, best)
    return replace(d, explanation=explanations.split(order, d, options))
