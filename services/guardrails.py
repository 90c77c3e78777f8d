"""Pre-trade guardrails (issue 16): the colour of an all-in cost, the hard confirm above a desk threshold, and the
`acknowledge_cost` field that satisfies it. One home for these rules; pages and the API read their verdicts.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Any

from services.errors import InputError, ServiceError

ACK_FIELD = "acknowledge_cost"


def _flag(value: Any) -> bool:
    """A boolean setting from the environment's text (1/true/yes) or a bool."""
    return value if isinstance(value, bool) else str(value).strip().lower() in ("1", "true", "yes")


@dataclass(frozen=True, slots=True)
class Guardrails:
    """The desk's pre-trade thresholds (README's table); bps are Decimal, USD thresholds USDC atoms."""

    warn_bps: Decimal = Decimal(25)  # an all-in cost above this is amber
    danger_bps: Decimal = Decimal(100)  # ... and above this red
    confirm_bps: Decimal = Decimal(150)  # above this all-in cost a trade needs an explicit acknowledgement
    confirm_usd_atoms: int = 5_000_000 * 10**6  # ... or above this notional (USDC atoms)
    suggest_parent_bps: Decimal = Decimal(50)  # above this one-shot cost the ticket offers a parent order
    low_water_pct: Decimal = Decimal(10)  # a pool side below this % of its replenishment target raises an alert
    confirm_api: bool = False  # HARD_CONFIRM_API: the JSON API applies the hard confirm too

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Guardrails:
        """The thresholds of a Flask config mapping (defaults where a key is absent)."""
        return cls(warn_bps=Decimal(str(config.get("COST_WARN_BPS", 25))),
                   danger_bps=Decimal(str(config.get("COST_DANGER_BPS", 100))),
                   confirm_bps=Decimal(str(config.get("HARD_CONFIRM_BPS", 150))),
                   confirm_usd_atoms=int(Decimal(str(config.get("HARD_CONFIRM_USD", 5_000_000))) * 10**6),
                   suggest_parent_bps=Decimal(str(config.get("PARENT_SUGGEST_BPS", 50))),
                   low_water_pct=Decimal(str(config.get("POOL_LOW_WATER_PCT", 10))),
                   confirm_api=_flag(config.get("HARD_CONFIRM_API", False)))

    def level(self, cost_bps: Decimal | None) -> str:
        """ok | warn | danger: the colour of an all-in cost (exactly at a threshold is not above it)."""
        if cost_bps is None or cost_bps <= self.warn_bps:
            return "ok"
        return "warn" if cost_bps <= self.danger_bps else "danger"

    def needs_confirm(self, cost_bps: Decimal | None, notional_usd_atoms: int) -> bool:
        """True when a trade must be acknowledged explicitly (cost above confirm_bps or notional above the USD)."""
        return bool(self.confirm_reasons(cost_bps, notional_usd_atoms))

    def confirm_reasons(self, cost_bps: Decimal | None, notional_usd_atoms: int) -> list[str]:
        """Which thresholds a trade crosses: "cost" (above confirm_bps), "notional" (above confirm_usd_atoms)."""
        return ([*(["cost"] if cost_bps is not None and cost_bps > self.confirm_bps else []),
                 *(["notional"] if notional_usd_atoms > self.confirm_usd_atoms else [])])

    def thresholds(self) -> dict[str, str]:
        """The thresholds as the API and the pages' legends state them (bps one decimal, USD atoms)."""
        return {"warn_bps": f"{self.warn_bps:.1f}", "danger_bps": f"{self.danger_bps:.1f}",
                "confirm_bps": f"{self.confirm_bps:.1f}", "confirm_usd_atoms": str(self.confirm_usd_atoms)}


def cost_usd_atoms(notional_usd_atoms: int, cost_bps: Decimal) -> int:
    """The USD cost (USDC atoms, rounded up) of cost_bps on a notional."""
    return int((Decimal(notional_usd_atoms) * cost_bps / 10_000).to_integral_value(rounding=ROUND_CEILING))


def assessment(cost_bps: Decimal | None, notional_usd_atoms: int, rails: Guardrails,
               option_costs: Mapping[str, Decimal | None] | None = None) -> dict[str, Any]:
    """A route's guardrails as JSON: its colour, whether it needs the hard confirm, its cost in USD atoms (rounded
    up), the thresholds, and the colour of each venue's option."""
    return {"level": rails.level(cost_bps), "confirm_required": rails.needs_confirm(cost_bps, notional_usd_atoms),
            "confirm_reasons": rails.confirm_reasons(cost_bps, notional_usd_atoms),
            "notional_usd_atoms": str(notional_usd_atoms),
            "cost_usd_atoms": None if cost_bps is None else str(cost_usd_atoms(notional_usd_atoms, max(cost_bps,
                                                                                                       Decimal(0)))),
            "thresholds": rails.thresholds(),
            "option_levels": {venue: rails.level(c) for venue, c in (option_costs or {}).items()}}


def acknowledged(body: Mapping[str, Any]) -> bool:
    """The request's `acknowledge_cost` (absent: false); 400 naming the field unless it is a JSON boolean."""
    value = body.get(ACK_FIELD, False)
    if not isinstance(value, bool):
        raise InputError(f"{ACK_FIELD} must be true or false", field=ACK_FIELD)
    return value


def require_acknowledgement(cost_bps: Decimal | None, notional_usd_atoms: int, acknowledged: bool,
                            rails: Guardrails) -> None:
    """Server-side hard confirm: 422 CONFIRM_REQUIRED when the trade crosses a threshold without acknowledgement."""
    if acknowledged or not rails.needs_confirm(cost_bps, notional_usd_atoms):
        return
    bps = cost_bps or Decimal(0)
    usd = Decimal(cost_usd_atoms(notional_usd_atoms, max(bps, Decimal(0)))).scaleb(-6)
    raise ServiceError(422, "CONFIRM_REQUIRED",
                       f"this trade costs {bps:.1f} bps all-in ({usd:,.2f} USD) on "
                       f"{Decimal(notional_usd_atoms).scaleb(-6):,.0f} USD notional, above the desk's hard-confirm "
                       f"threshold ({rails.confirm_bps:.1f} bps or {Decimal(rails.confirm_usd_atoms).scaleb(-6):,.0f}"
                       f" USD); nothing was executed: send {ACK_FIELD}: true to execute it")
