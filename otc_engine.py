"""OTC dealer pools: pricing, size limits and inventory rules. Pure: stdlib only, no I/O, clock or global randomness.

Amounts are integer atoms, prices and bps Decimal. Every rounding favours the dealer: what the trader receives rounds
down, what the trader pays rounds up; spreads round up to BPS_PLACES and are charged exactly as reported.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, Decimal, localcontext
from functools import lru_cache

from core import tokens
from core.otc_types import (
    DECIMAL_CTX,
    Inventory,
    OtcQuote,
    OtcRefusal,
    PoolParams,
    as_utc,
    symbol_of,
    vol_spread_bps,
)
from core.units import BPS, BPS_PLACES, SwapMode, ceil_div

__all__ = [
    "Inventory",
    "OtcQuote",
    "OtcRefusal",
    "PoolParams",
    "vol_spread_bps",
]


def execution_delay_ms(params: PoolParams, jitter_seed: int) -> int:
    """Delay plus a jitter in [-jitter, +jitter] ms that is a pure function of (pool name, seed); never negative."""
    if isinstance(jitter_seed, bool) or not isinstance(jitter_seed, int):
        raise ValueError("jitter_seed must be an integer")
    return _delay_ms(params.name, jitter_seed, params.execution_delay_ms, params.delay_jitter_ms)


@lru_cache(maxsize=1024)  # a quote prices each pool a dozen times with one seed (the Unix second)
def _delay_ms(name: str, jitter_seed: int, delay_ms: int, jitter_ms: int) -> int:
    """execution_delay_ms on its plain inputs."""
    span = 2 * jitter_ms + 1
    digest = hashlib.blake2b(f"{name}:{jitter_seed}".encode(), digest_size=8).digest()
    return max(0, delay_ms + int.from_bytes(digest, "big") % span - jitter_ms)


def replenish(params: PoolParams, inv: Inventory, now: datetime) -> Inventory:
    """Each side moves toward its target by target*pct/100 per elapsed hour (atoms, rounded down), never past it."""
    now = as_utc("now", now)
    if now <= inv.as_of:
        return inv
    elapsed_us = (now - inv.as_of) // timedelta(microseconds=1)
    pct_n, pct_d = params.replenish_pct_per_hour.as_integer_ratio()

    def toward(held: int, target: int) -> int:
        step = target * pct_n * elapsed_us // (pct_d * 100 * 3_600_000_000)
        return min(target, held + step) if held < target else max(target, held - step)

    return Inventory(toward(inv.base_atoms, params.target_base_atoms),
                     toward(inv.quote_atoms, params.target_quote_atoms), now)


def inventory_imbalance(params: PoolParams, inv: Inventory) -> Decimal:
    """(b − q) / (b + q), b and q each side's holdings as a fraction of its target: +1 all base, −1 all quote, 0 at
    the targets' proportion (or without targets)."""
    if params.target_base_atoms == 0 or params.target_quote_atoms == 0:
        return Decimal(0)
    b = inv.base_atoms * params.target_quote_atoms  # both fractions over the common denominator target_b · target_q
    q = inv.quote_atoms * params.target_base_atoms
    if b + q == 0:
        return Decimal(0)
    with localcontext(DECIMAL_CTX):
        return Decimal(b - q) / Decimal(b + q)


def skew_bps(params: PoolParams, inv: Inventory, sells_base: bool) -> Decimal:
    """The dealer's inventory skew charged to a trader, bps: inventory_skew_bps × imbalance, positive (worse) for a
    trader adding to the side the pool is long in, negative (a discount) for one who rebalances it; rounded up
    (toward the dealer) to BPS_PLACES. A long dealer shades its mid down: sellers of base pay, buyers gain."""
    if params.inventory_skew_bps == 0:
        return Decimal(0)
    with localcontext(DECIMAL_CTX):
        charge = params.inventory_skew_bps * inventory_imbalance(params, inv) * (1 if sells_base else -1)
        return charge.quantize(BPS_PLACES, ROUND_CEILING)


def payout_available(params: PoolParams, inv: Inventory, output_mint: str) -> int:
    """Atoms of output_mint the pool holds and can pay out (0 for a mint outside its pair)."""
    if output_mint == params.base_mint:
        return inv.base_atoms
    return inv.quote_atoms if output_mint == params.quote_mint else 0


def _size_refusal(params: PoolParams, base_atoms: int) -> OtcRefusal | None:
    """Refusal when the base leg is outside the pool's [min, max] trade size."""
    sym, dec = symbol_of(params.base_mint), params.base_decimals
    if base_atoms < params.min_trade_base_atoms:
        limit = tokens.format_ui(params.min_trade_base_atoms, dec)
        return OtcRefusal(params.venue, f"below min trade size ({limit} {sym}): trade at least that much here")
    if base_atoms > params.max_trade_base_atoms:
        limit = tokens.format_ui(params.max_trade_base_atoms, dec)
        return OtcRefusal(params.venue, f"above max trade size ({limit} {sym}): split the order")
    return None


def _min_input(out_of: Callable[[int], int], want: int, x_max: int, guess: int) -> int | None:
    """Smallest input x in [1, x_max] with out_of(x) >= want (out_of non-decreasing, out_of(0) == 0), or None."""
    if out_of(x_max) < want:
        return None
    lo, hi, x, step = 0, x_max, min(max(guess, 1), x_max), 1  # invariant: out_of(lo) < want <= out_of(hi)
    if out_of(x) >= want:  # gallop outward from the guess, then bisect
        hi = x
        while hi - step > lo and out_of(hi - step) >= want:
            hi, step = hi - step, step * 2
        lo = max(lo, hi - step)
    else:
        lo = x
        while lo + step < hi and out_of(lo + step) < want:
            lo, step = lo + step, step * 2
        hi = min(hi, lo + step)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if out_of(mid) >= want else (mid, hi)
    return hi


def _power(frac: Decimal, exponent: Decimal) -> Decimal:
    """frac**exponent in the current context; a whole or half exponent (1.5 by default) by multiplication and one
    square root (both correctly rounded, 25× faster than the general power's exp and ln)."""
    twice = exponent * 2
    if twice == twice.to_integral_value() and 0 < twice <= 16:
        whole = int(twice) // 2
        result = frac**whole if whole else Decimal(1)
        return result * frac.sqrt() if int(twice) % 2 else result
    return frac**exponent


@dataclass(frozen=True, slots=True)
class _Book:
    """One direction of a pool at one mid: an input atom is worth num/den output atoms; `available` is payout atoms."""

    params: PoolParams
    num: int
    den: int
    available: int
    vol_bps: Decimal
    skew: Decimal  # inventory skew charged to this trader (bps, signed)
    delay_ms: int

    def size_spread(self, frac: Decimal) -> Decimal:
        """size_spread_bps * frac**alpha for a payout fraction of inventory (0..1), rounded up to BPS_PLACES."""
        if frac <= 0 or self.params.size_spread_bps == 0:
            return Decimal(0)
        with localcontext(DECIMAL_CTX):
            return (self.params.size_spread_bps * _power(frac, self.params.size_exponent)).quantize(BPS_PLACES,
                                                                                                   ROUND_CEILING)

    def price(self, x: int) -> tuple[Decimal, Decimal, int, int]:
        """ExactIn pricing of x input atoms: (size bps, total spread bps, gross out floored, fee in output ceiled)."""
        with localcontext(DECIMAL_CTX):
            size = self.size_spread(Decimal(x * self.num) / (Decimal(self.den) * self.available)) if x else Decimal(0)
        spread = self.params.base_spread_bps + size + self.vol_bps + self.skew
        s_n, s_d = spread.as_integer_ratio()
        gross = x * self.num * (BPS * s_d - s_n) // (self.den * BPS * s_d)
        fee_n, fee_d = self.params.fee_bps.as_integer_ratio()
        return size, spread, gross, ceil_div(gross * fee_n, BPS * fee_d)

    def out_of(self, x: int) -> int:
        """Net output atoms the trader receives for x input atoms (ExactIn); non-decreasing in x."""
        _, _, gross, fee = self.price(x)
        return gross - fee

    def input_for(self, out: int) -> int | None:
        """Fewest input atoms whose ExactIn output reaches `out` within inventory, or None (ExactOut, rounded up)."""
        p = self.params
        with localcontext(DECIMAL_CTX):  # a close Decimal estimate, then an exact integer search
            value = Decimal(out)
            for _ in range(3):
                spread = (p.base_spread_bps + self.size_spread(min(value / self.available, Decimal(1))) + self.vol_bps
                          + self.skew)
                value = out / ((1 - spread / BPS) * (1 - p.fee_bps / BPS))
            guess = int(value * self.den / self.num)
        return _min_input(self.out_of, out, self.available * self.den // self.num, guess)


def _check_mid(mid_price: Decimal) -> None:
    """ValueError unless mid_price is a positive finite Decimal (quote per base)."""
    if not isinstance(mid_price, Decimal) or not mid_price.is_finite() or mid_price <= 0:
        raise ValueError(f"mid_price must be a positive finite Decimal: got {mid_price!r}")


def quote_pool(params: PoolParams, inv: Inventory, mid_price: Decimal, input_mint: str, output_mint: str,
               amount_atoms: int, swap_mode: str, now: datetime, jitter_seed: int = 0) -> OtcQuote | OtcRefusal:
    """Quote amount_atoms (input atoms for ExactIn, output atoms for ExactOut) at mid_price, or refuse it."""
    if swap_mode not in SwapMode.__members__.values():
        raise ValueError(f"swap_mode must be ExactIn or ExactOut: got {swap_mode!r}")
    if isinstance(amount_atoms, bool) or not isinstance(amount_atoms, int):
        raise ValueError("amount_atoms must be an integer")
    _check_mid(mid_price)
    now, venue = as_utc("now", now), params.venue
    if not params.active:
        return OtcRefusal(venue, f"pool {params.name} is inactive: route to another venue")
    if input_mint == output_mint or {input_mint, output_mint} != {params.base_mint, params.quote_mint}:
        return OtcRefusal(venue, f"pool trades {symbol_of(params.base_mint)}/{symbol_of(params.quote_mint)} only")
    if amount_atoms <= 0:
        return OtcRefusal(venue, "amount must be greater than zero")
    sell_base, exact_in = input_mint == params.base_mint, swap_mode == SwapMode.EXACT_IN
    if sell_base == exact_in and (refusal := _size_refusal(params, amount_atoms)):
        return refusal  # the base leg is the given amount: check the limits before pricing
    book = _book(params, inv, mid_price, output_mint, sell_base, jitter_seed)
    available, num, den, delay = book.available, book.num, book.den, book.delay_ms
    out_decimals = params.quote_decimals if sell_base else params.base_decimals
    beyond = OtcRefusal(venue, f"beyond available inventory: pool can pay out at most "
                        f"{tokens.format_ui(available, out_decimals)} {symbol_of(output_mint)} now; trade less")
    if exact_in:
        x = amount_atoms
        if x * num > available * den:  # payout at mid beyond inventory (size fraction above 1)
            return beyond
        size, spread, gross, fee_atoms = book.price(x)
        out = gross - fee_atoms
    else:
        out = amount_atoms
        found = book.input_for(out) if out <= available else None
        if found is None:
            return beyond
        x = found
        size, spread, _, _ = book.price(x)
        fee_n, fee_d = params.fee_bps.as_integer_ratio()
        fee_atoms = ceil_div(x * fee_n, BPS * fee_d)  # the input's fee share, rounded up
    if refusal := _size_refusal(params, x if sell_base else out):
        return refusal
    return OtcQuote(
        venue=venue, input_mint=input_mint, output_mint=output_mint, swap_mode=swap_mode,
        in_amount_atoms=x, out_amount_atoms=out, base_atoms=x if sell_base else out, mid_price=mid_price,
        base_spread_bps=params.base_spread_bps, size_spread_bps=size, vol_spread_bps=book.vol_bps,
        spread_bps=spread, fee_bps=params.fee_bps, fee_atoms=fee_atoms, execution_delay_ms=delay,
        quoted_at=now, expires_at=now + timedelta(milliseconds=params.quote_ttl_ms), base_mint=params.base_mint,
        skew_bps=book.skew,
    )


def _book(params: PoolParams, inv: Inventory, mid_price: Decimal, output_mint: str, sell_base: bool,
          jitter_seed: int) -> _Book:
    """The pool's book for one direction at mid_price (an input atom's worth in output atoms, exact)."""
    m_n, m_d = mid_price.as_integer_ratio()
    b_unit, q_unit = 10**params.base_decimals, 10**params.quote_decimals
    num, den = (m_n * q_unit, m_d * b_unit) if sell_base else (m_d * b_unit, m_n * q_unit)
    delay = execution_delay_ms(params, jitter_seed)
    return _Book(params, num, den, payout_available(params, inv, output_mint),
                 vol_spread_bps(params.annual_vol_pct, params.vol_z, delay), skew_bps(params, inv, sell_base), delay)


def exact_in_pricer(params: PoolParams, inv: Inventory, mid_price: Decimal, input_mint: str, output_mint: str,
                    jitter_seed: int = 0) -> Callable[[int], int | None]:
    """out(x): the net output atoms quote_pool gives an ExactIn order of x input atoms, or None where it refuses
    (the same book and rounding, built once: a cost curve prices a pool at a dozen sizes)."""
    _check_mid(mid_price)
    if not params.active or input_mint == output_mint or {input_mint, output_mint} != {params.base_mint,
                                                                                         params.quote_mint}:
        return lambda x: None
    sell_base = input_mint == params.base_mint
    book = _book(params, inv, mid_price, output_mint, sell_base, jitter_seed)

    def out(x: int) -> int | None:
        if x <= 0 or (sell_base and _size_refusal(params, x)) or x * book.num > book.available * book.den:
            return None
        got = book.out_of(x)
        return None if _size_refusal(params, x if sell_base else got) else got

    return out


def _sells_base(quote: OtcQuote) -> bool:
    """True when the trader's input is the pool's base token."""
    if quote.base_mint:
        return quote.input_mint == quote.base_mint
    if (quote.in_amount_atoms == quote.base_atoms) == (quote.out_amount_atoms == quote.base_atoms):
        raise ValueError("cannot tell which side of the pool this quote moves: set OtcQuote.base_mint")
    return quote.in_amount_atoms == quote.base_atoms


def apply_fill(inv: Inventory, quote: OtcQuote) -> Inventory:
    """Inventory after filling quote: +in_amount on the input side, -out_amount on the output side (exact atoms)."""
    if _sells_base(quote):
        return Inventory(inv.base_atoms + quote.in_amount_atoms, inv.quote_atoms - quote.out_amount_atoms, inv.as_of)
    return Inventory(inv.base_atoms - quote.out_amount_atoms, inv.quote_atoms + quote.in_amount_atoms, inv.as_of)
