"""The market a service prices against: settings, the Jupiter client and the independent reference price.

Built once per process by the composition root (app.create_app) and passed to every service call, so the services
never read a Flask global and run the same from a request, a CLI command or a job.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext

import jupiter_api
from core import router
from core.orders import Order
from core.tokens import USDC, Token
from core.units import PRICE_PRECISION
from services.settings import Settings
from venues.jupiter_price import PriceClient


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one market per process
class Market:
    """Settings, the per-process Jupiter client and the reference price (Jupiter's Price API v3, or the simulator's)."""

    settings: Settings
    jupiter: jupiter_api.JupiterClient
    prices: PriceClient

    def mid_price(self, input_token: Token, output_token: Token, now_s: float | None = None) -> Decimal:
        """Reference mid, output tokens per input token (human units): the ratio of their USD reference prices.

        now_s prices a past instant in the simulator (demo data); live prices are always the latest.
        Raises PriceUnavailableError when there is no reference price young enough.
        """
        found = self.prices.usd_prices([input_token.mint, output_token.mint], at_s=now_s)
        with localcontext() as ctx:
            ctx.prec = PRICE_PRECISION
            return found[input_token.mint].usd_price / found[output_token.mint].usd_price

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
