"""Price bands: a venue's price is believed only within a band around the independent reference price.

Pure: stdlib only. A fill's execution cost against the reference mid (bps, positive = worse for the desk) may exceed
the venue's own stated impact by at most `worse_bps`, and may beat the reference by at most `better_bps`: a price
too good to be true is as suspect as one too bad (a stale or poisoned quote, a decimals bug upstream).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext

from core.orders import Order
from core.units import BPS, BPS_PLACES, PRICE_PRECISION

OUT_OF_BAND = "PRICE_OUT_OF_BAND"


@dataclass(frozen=True, slots=True)
class Band:
    """How far (bps) a venue's price may stray from the reference: worse beyond its stated impact, or better."""

    worse_bps: Decimal
    better_bps: Decimal

    def __post_init__(self) -> None:
        """Refuse a band that would let anything through or nothing."""
        if not (0 <= self.worse_bps <= BPS and 0 <= self.better_bps <= BPS):
            raise ValueError("price bands must be between 0 and 10000 bps")


def cost_vs_reference_bps(order: Order, in_atoms: int, out_atoms: int, mid: Decimal) -> Decimal:
    """Execution cost of a fill against the reference mid (output per input, human units), bps, to 0.0001."""
    with localcontext() as ctx:
        ctx.prec = PRICE_PRECISION
        scale = Decimal(1).scaleb(order.output_token.decimals - order.input_token.decimals)
        fair_out = Decimal(in_atoms) * mid * scale
        cost = (fair_out - out_atoms) / fair_out * BPS
        return cost.quantize(BPS_PLACES)


def violation(order: Order, in_atoms: int, out_atoms: int, mid: Decimal, band: Band,
              stated_impact_bps: Decimal = Decimal(0)) -> str | None:
    """Why a fill of in_atoms for out_atoms is out of band against the mid, or None when it is within it."""
    cost = cost_vs_reference_bps(order, in_atoms, out_atoms, mid)
    allowed = max(stated_impact_bps, Decimal(0)) + band.worse_bps
    if cost > allowed:
        return (f"{OUT_OF_BAND}: pays {cost:.1f} bps worse than the reference price, beyond its stated impact "
                f"{stated_impact_bps:.1f} bps + the {band.worse_bps} bps band")
    if -cost > band.better_bps:
        return (f"{OUT_OF_BAND}: pays {-cost:.1f} bps better than the reference price, beyond the "
                f"{band.better_bps} bps band (a price too good to be true)")
    return None
