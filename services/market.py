"""The market a service prices against: settings, the Jupiter client and an independent reference price.

Built once per process by the composition root (app.create_app) and passed to every service call, so the services
never read a Flask global and run the same from a request, a CLI command or a job.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import jupiter_api
from core import router
from core.orders import Order
from core.tokens import USDC, Token
from services.settings import Settings

# reference(input, output, unix seconds) -> output tokens per input token (human units)
Reference = Callable[[Token, Token, float], Decimal]


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one market per process
class Market:
    """Settings, the per-process Jupiter client and the reference mid source."""

    settings: Settings
    jupiter: jupiter_api.JupiterClient
    reference: Reference

    def mid_price(self, input_token: Token, output_token: Token, now_s: float | None = None) -> Decimal:
        """Reference mid, output tokens per input token (human units), at now_s (default: the clock)."""
        return self.reference(input_token, output_token, time.time() if now_s is None else now_s)

    def usd_value_atoms(self, amount_atoms: int, token: Token, now_s: float | None = None) -> int:
        """Value of an amount in USD with 6 decimals (USDC atoms), rounded down; stablecoins at par."""
        if token.stable:
            return amount_atoms * 10**USDC.decimals // 10**token.decimals
        price = self.mid_price(token, USDC, now_s)
        return int(Decimal(amount_atoms) * price * Decimal(1).scaleb(USDC.decimals - token.decimals))

    def jupiter_risk_bps(self) -> Decimal:
        """The timing-risk charge of a Jupiter leg over its inclusion delay (bps, rounded up)."""
        s = self.settings
        return router.delay_risk_bps(s.jupiter_annual_vol_pct, s.jupiter_vol_z, s.jupiter_delay_ms)

    def leg_quote(self, order: Order, size_atoms: int) -> jupiter_api.JupiterQuote:
        """A fresh Jupiter quote for exactly size_atoms of the order's fixed side (never cached)."""
        return self.jupiter.quote(order.input_token.mint, order.output_token.mint, size_atoms, order.slippage_bps,
                                  order.swap_mode)


def jupiter_reference(client: jupiter_api.JupiterClient) -> Reference:
    """Live mode's reference mid until an independent price source lands: a small 1-unit Jupiter quote."""
    def reference(input_token: Token, output_token: Token, now_s: float) -> Decimal:
        quote = client.quote(input_token.mint, output_token.mint, 10**input_token.decimals, 50)
        return Decimal(quote.out_amount_atoms).scaleb(-output_token.decimals)

    return reference
