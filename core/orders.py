"""The order and route value objects: an order, one venue's answer, a leg, the decision; frozen and checked.

Pure: stdlib only. Amounts are integer atoms; costs are Decimal bps.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from core.tokens import Token
from core.units import SwapMode

MIN_SLIPPAGE_BPS, MAX_SLIPPAGE_BPS = 1, 5000


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
    swap_mode: SwapMode = SwapMode.EXACT_IN
    slippage_bps: int = 50

    def __post_init__(self) -> None:
        """Fail fast on orders no venue should see."""
        if self.input_token == self.output_token:
            raise ValueError("input and output tokens must differ")
        object.__setattr__(self, "swap_mode", SwapMode.parse(self.swap_mode))
        if not MIN_SLIPPAGE_BPS <= self.slippage_bps <= MAX_SLIPPAGE_BPS:
            raise ValueError(f"slippage_bps must be between {MIN_SLIPPAGE_BPS} and {MAX_SLIPPAGE_BPS}")
        if self.amount_atoms <= 0:
            raise ValueError("amount must be greater than zero")

    @property
    def exact_in(self) -> bool:
        """True when the input amount is fixed."""
        return self.swap_mode == SwapMode.EXACT_IN

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
    down: bool = False  # unavailable because the venue itself is failing (outage, breaker), not because of the order


@dataclass(frozen=True, slots=True)
class Leg:
    """The part of the order one venue fills, in atoms."""

    venue: str
    in_amount_atoms: int
    out_amount_atoms: int
    cost_bps: Decimal | None = None
    marginal_cost_bps: Decimal | None = None  # all-in cost of the leg's last atom (split legs: the cut point)
    fee_atoms: int | None = None  # None: take the venue option's fee
    delay_ms: int | None = None  # None: take the venue option's delay


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
    best_single_venue: str | None = None
    best_single_in_amount_atoms: int | None = None
    best_single_out_amount_atoms: int | None = None
    best_single_cost_bps: Decimal | None = None
    split_gain_atoms: int | None = None  # a split's extra output (ExactIn) or input spared (ExactOut) vs best single
    split_gain_bps: Decimal | None = None

    @property
    def venue(self) -> str:
        """The venue of a single-leg route, or 'split'."""
        return self.legs[0].venue if len(self.legs) == 1 else "split"
