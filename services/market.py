"""The market a service prices against: settings, the Jupiter client and the independent reference price.

Built once per process by the composition root (app.create_app) and passed to every service call, so the services
never read a Flask global and run the same from a request, a CLI command or a job.
"""
from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Protocol

import jupiter_api
from core import bands, router
from core.bands import Band
from core.orders import Order
from core.tokens import USDC, Token
from core.units import BPS, PRICE_PRECISION
from core.venue import JUPITER
from services.onchain import OnChain
from services.settings import Settings
from venues.jupiter_price import PriceClient
from venues.ladder_store import MemoryLadderStore, RedisLadderStore
from venues.rfq_client import RfqClient

LadderStore = MemoryLadderStore | RedisLadderStore


class PoolImpact(Protocol):
    """The simulated pools' shared state (sim.impact.PoolBook): what an executed Jupiter route does to them."""

    def apply_fill(self, steps: Sequence[jupiter_api.RouteStep], now_s: float) -> None:
        """Move each pool the route swapped through by the atoms that went through it (atomic, shared)."""

    def one_read(self) -> AbstractContextManager[None]:
        """A block in which every simulated Jupiter quote shares one read of the pools' state."""


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one market per process
class Market:
    """Settings, the per-process Jupiter client and the reference price (Jupiter's Price API v3, or the simulator's)."""

    settings: Settings
    jupiter: jupiter_api.JupiterClient
    prices: PriceClient
    ladders: LadderStore
    pool_impact: PoolImpact | None = None  # sim mode: the simulated pools remember our swaps; live: None
    rfq: RfqClient | None = None  # the RFQ makers' client (issue 15); None: no maker is asked

    def apply_jupiter_fill(self, q: jupiter_api.JupiterQuote, now_s: float) -> None:
        """Persistent impact: the executed Jupiter route moves the simulated pools it went through (no-op live).

        The one hook between an executed Jupiter swap and the market model; the simulated chain's settlement
        calls it too once swaps settle there.
        """
        if self.pool_impact is not None:
            self.pool_impact.apply_fill(q.route_plan, now_s)
    chain: OnChain | None = None  # on-chain execution of Jupiter legs (None: a Jupiter leg executes as a re-quote)

    def one_pool_read(self) -> AbstractContextManager[None]:
        """A block (one quote) whose simulated Jupiter calls share one read of the simulated pools' state (the
        database's, shared by every worker: never kept past the block); live: nothing to share."""
        return self.pool_impact.one_read() if self.pool_impact is not None else nullcontext()

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
        return router.timing_risk_bps(JUPITER, s.jupiter_annual_vol_pct, s.jupiter_vol_z, s.jupiter_delay_ms)

    @property
    def band(self) -> Band:
        """The desk's price band around the reference price (PRICE_BAND_BPS, PRICE_BAND_BETTER_BPS)."""
        return Band(self.settings.price_band_bps, self.settings.price_band_better_bps)

    def out_of_band(self, order: Order, q: jupiter_api.JupiterQuote, mid: Decimal) -> str | None:
        """Why a Jupiter quote for the order is not to be believed against the reference mid, or None."""
        return bands.violation(order, q.in_amount_atoms, q.out_amount_atoms, mid, self.band,
                               q.price_impact_pct * BPS)

    def leg_quote(self, order: Order, size_atoms: int, mid: Decimal | None = None) -> jupiter_api.JupiterQuote:
        """A fresh Jupiter quote for exactly size_atoms of the order's fixed side (never cached); with the reference
        mid, PriceOutOfBandError unless it is within the band."""
        q = self.jupiter.quote(order.input_token.mint, order.output_token.mint, size_atoms, order.slippage_bps,
                               order.swap_mode)
        refused = None if mid is None else self.out_of_band(order, q, mid)
        if refused:
            raise jupiter_api.PriceOutOfBandError(refused)
        return q
