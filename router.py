"""The route decision: all-in cost of each venue against the reference mid, the choice, and savings.

Pure: no Flask, SQL, HTTP, clock or randomness. Amounts are integer atoms; costs are Decimal bps.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from typing import Any

from tokens import Token, format_ui

EXACT_IN, EXACT_OUT = "ExactIn", "ExactOut"
SWAP_MODES = (EXACT_IN, EXACT_OUT)
MIN_SLIPPAGE_BPS, MAX_SLIPPAGE_BPS = 1, 5000
BPS_PLACES = Decimal("0.0001")
SECONDS_PER_YEAR = 365 * 24 * 3600


class NoRouteAvailable(Exception):
    """No venue can fill the order; `reasons` maps venue to why."""

    def __init__(self, reasons: dict[str, str]):
        self.reasons = reasons
        detail = "; ".join(f"{venue}: {why}" for venue, why in reasons.items()) or "no venue quoted"
        super().__init__(f"no venue can fill this order ({detail})")


@dataclass(frozen=True, slots=True)
class Order:
    """A validated order: `amount_atoms` is input (ExactIn) or output (ExactOut) atoms."""

    input_token: Token
    output_token: Token
    amount_atoms: int
    swap_mode: str = EXACT_IN
    slippage_bps: int = 50

    def __post_init__(self) -> None:
        """Fail fast on orders no venue should see."""
        if self.input_token == self.output_token:
            raise ValueError("input and output tokens must differ")
        if self.swap_mode not in SWAP_MODES:
            raise ValueError("swap_mode must be ExactIn or ExactOut")
        if not MIN_SLIPPAGE_BPS <= self.slippage_bps <= MAX_SLIPPAGE_BPS:
            raise ValueError(f"slippage_bps must be between {MIN_SLIPPAGE_BPS} and {MAX_SLIPPAGE_BPS}")
        if self.amount_atoms <= 0:
            raise ValueError("amount must be greater than zero")

    @property
    def exact_in(self) -> bool:
        """True when the input amount is fixed."""
        return self.swap_mode == EXACT_IN

    @property
    def amount_token(self) -> Token:
        """The token `amount_atoms` is counted in."""
        return self.input_token if self.exact_in else self.output_token

    @property
    def pair(self) -> str:
        """Display pair, base first when SOL is involved, e.g. SOL/USDC."""
        a, b = self.input_token.symbol, self.output_token.symbol
        return f"{b}/{a}" if b == "SOL" else f"{a}/{b}"


@dataclass(frozen=True, slots=True)
class VenueOption:
    """One venue's answer for an order: amounts in atoms and a cost breakdown in bps vs mid."""

    venue: str
    available: bool
    in_amount_atoms: int | None = None
    out_amount_atoms: int | None = None
    price_impact_bps: Decimal | None = None
    spread_bps: Decimal | None = None
    fee_atoms: int | None = None
    fee_bps: Decimal | None = None
    delay_ms: int = 0
    execution_cost_bps: Decimal | None = None
    delay_risk_bps: Decimal | None = None
    cost_bps: Decimal | None = None
    reason: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Leg:
    """The part of the order one venue fills, in atoms."""

    venue: str
    in_amount_atoms: int
    out_amount_atoms: int
    cost_bps: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """The chosen route with its guard amount, the Jupiter-only baseline and the savings."""

    legs: tuple[Leg, ...]
    in_amount_atoms: int
    out_amount_atoms: int
    cost_bps: Decimal
    min_out_amount_atoms: int | None
    max_in_amount_atoms: int | None
    jupiter_only_in_amount_atoms: int | None
    jupiter_only_out_amount_atoms: int | None
    savings_atoms: int | None
    savings_bps: Decimal | None
    explanation: str

    @property
    def venue(self) -> str:
        """The venue of a single-leg route, or 'split'."""
        return self.legs[0].venue if len(self.legs) == 1 else "split"


def mid_value_atoms(amount_atoms: int, mid_price: Decimal, from_token: Token, to_token: Token) -> Decimal:
    """Exact value at mid of `amount_atoms` of from_token, in to_token atoms (unrounded)."""
    with localcontext() as ctx:
        ctx.prec = 60
        return Decimal(amount_atoms) * mid_price * Decimal(1).scaleb(to_token.decimals - from_token.decimals)


def delay_risk_bps(annual_vol_pct: Decimal, z: Decimal, delay_ms: int) -> Decimal:
    """Price risk carried over the execution delay: z·σ·√delay in bps (σ per √second), rounded up."""
    with localcontext() as ctx:
        ctx.prec = 40
        sigma_per_sqrt_s = annual_vol_pct / 100 / Decimal(SECONDS_PER_YEAR).sqrt()
        return (z * sigma_per_sqrt_s * (Decimal(delay_ms) / 1000).sqrt() * 10_000).quantize(BPS_PLACES, ROUND_CEILING)


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
            execution = (fair - out_atoms) / fair * 10_000
        else:
            fair = Decimal(out_atoms) / mid_value_atoms(1, mid_price, order.input_token, order.output_token)
            execution = (Decimal(in_atoms) - fair) / fair * 10_000
        execution = execution.quantize(BPS_PLACES, rounding=ROUND_CEILING)
    return VenueOption(venue=venue, available=True, in_amount_atoms=in_atoms, out_amount_atoms=out_atoms,
                       delay_ms=delay_ms, execution_cost_bps=execution, delay_risk_bps=risk_bps,
                       cost_bps=execution + risk_bps, **extra)


def unavailable(venue: str, reason: str) -> VenueOption:
    """A venue that cannot serve this order, with the reason a trader reads."""
    return VenueOption(venue=venue, available=False, reason=reason)


def min_out(out_atoms: int, slippage_bps: int) -> int:
    """Least output accepted: out·(10000 − slippage)/10000, rounded down."""
    return out_atoms * (10_000 - slippage_bps) // 10_000


def max_in(in_atoms: int, slippage_bps: int) -> int:
    """Most input accepted: in·(10000 + slippage)/10000, rounded up."""
    return -(-in_atoms * (10_000 + slippage_bps) // 10_000)


def _rank(option: VenueOption) -> tuple[Decimal, int, int, int, str]:
    """Sort key: lowest all-in cost, then more output, less input, shorter delay, then venue name."""
    assert option.cost_bps is not None and option.in_amount_atoms is not None and option.out_amount_atoms is not None
    return option.cost_bps, -option.out_amount_atoms, option.in_amount_atoms, option.delay_ms, option.venue


def savings(
    order: Order, in_atoms: int, out_atoms: int, jupiter: VenueOption | None
) -> tuple[int | None, Decimal | None]:
    """Savings vs the Jupiter-only route: extra output (ExactIn) or input spared (ExactOut), atoms and bps."""
    if jupiter is None or not jupiter.available:
        return None, None
    assert jupiter.in_amount_atoms is not None and jupiter.out_amount_atoms is not None
    if order.exact_in:
        saved, base = out_atoms - jupiter.out_amount_atoms, jupiter.out_amount_atoms
    else:
        saved, base = jupiter.in_amount_atoms - in_atoms, jupiter.in_amount_atoms
    with localcontext() as ctx:
        ctx.prec = 40
        saved_bps = (Decimal(saved) * 10_000 / base).quantize(BPS_PLACES, rounding=ROUND_FLOOR)
    return saved, saved_bps


def decide(order: Order, options: Sequence[VenueOption]) -> Decision:
    """Pick the single venue with the lowest all-in cost; raise NoRouteAvailable when none can fill."""
    usable = [o for o in options if o.available]
    if not usable:
        raise NoRouteAvailable({o.venue: o.reason or "unavailable" for o in options})
    best = min(usable, key=_rank)
    assert best.in_amount_atoms is not None and best.out_amount_atoms is not None and best.cost_bps is not None
    jupiter = next((o for o in options if o.venue == "jupiter"), None)
    saved_atoms, saved_bps = savings(order, best.in_amount_atoms, best.out_amount_atoms, jupiter)
    leg = Leg(best.venue, best.in_amount_atoms, best.out_amount_atoms, best.cost_bps)
    return Decision(
        legs=(leg,), in_amount_atoms=best.in_amount_atoms, out_amount_atoms=best.out_amount_atoms,
        cost_bps=best.cost_bps,
        min_out_amount_atoms=min_out(best.out_amount_atoms, order.slippage_bps) if order.exact_in else None,
        max_in_amount_atoms=None if order.exact_in else max_in(best.in_amount_atoms, order.slippage_bps),
        jupiter_only_in_amount_atoms=jupiter.in_amount_atoms if jupiter and jupiter.available else None,
        jupiter_only_out_amount_atoms=jupiter.out_amount_atoms if jupiter and jupiter.available else None,
        savings_atoms=saved_atoms, savings_bps=saved_bps,
        explanation=explain(order, best, usable, options),
    )


def explain(order: Order, best: VenueOption, usable: Sequence[VenueOption], options: Sequence[VenueOption]) -> str:
    """One sentence a trader reads: who fills, at what cost, against what."""
    amount = format_ui(order.amount_atoms, order.amount_token.decimals, None)
    verb = "fills all" if order.exact_in else "delivers all"
    text = f"{best.venue} {verb} {amount} {order.amount_token.symbol} at {best.cost_bps:.1f} bps all-in"
    others = [o for o in usable if o is not best]
    if others:
        text += " vs " + ", ".join(f"{o.cost_bps:.1f} bps on {o.venue}" for o in sorted(others, key=_rank))
    refused = [o for o in options if not o.available]
    if refused:
        text += "; not used: " + "; ".join(f"{o.venue} ({o.reason})" for o in refused)
    return text
