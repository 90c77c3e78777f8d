"""The pool engine's ExactIn pricer (built once per cost curve) answers exactly what quote_pool answers."""
from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import otc_engine as oe
from core.desk_pools import DEFAULT_POOLS
from core.tokens import SOL, USDC, USDT
from core.units import SwapMode

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
POOLS = DEFAULT_POOLS[:2]


def expected(params: oe.PoolParams, inv: oe.Inventory, mid: Decimal, in_mint: str, out_mint: str, x: int,
             seed: int) -> int | None:
    """quote_pool's ExactIn output for x, or None when it refuses."""
    q = oe.quote_pool(params, inv, mid, in_mint, out_mint, x, SwapMode.EXACT_IN, NOW, jitter_seed=seed)
    return q.out_amount_atoms if isinstance(q, oe.OtcQuote) else None


def pools() -> st.SearchStrategy[oe.PoolParams]:
    """The default pools with drawn settings: exponent, fee, skew, vol, limits (the pricer must not depend on them)."""
    return st.builds(
        lambda pool, exponent, fee, skew, vol, min_sol: dataclasses.replace(
            pool, size_exponent=exponent, fee_bps=fee, inventory_skew_bps=skew, annual_vol_pct=vol,
            min_trade_base_atoms=min_sol * 10**9),
        st.sampled_from(POOLS), st.sampled_from([Decimal(1), Decimal("1.5"), Decimal(2), Decimal("0.7")]),
        st.sampled_from([Decimal(0), Decimal(2), Decimal("7.5")]), st.sampled_from([Decimal(0), Decimal(15)]),
        st.sampled_from([Decimal(0), Decimal(80)]), st.integers(1, 100))


@settings(max_examples=300, deadline=None)
@given(pool=pools(), sell_base=st.booleans(), seed=st.integers(0, 10**6),
       base_share=st.integers(0, 200), quote_share=st.integers(0, 200), mid_cents=st.integers(1_000, 100_000),
       sizes=st.lists(st.integers(-5, 10**15), min_size=1, max_size=8))
def test_pricer_output_equals_quote_pool_at_every_size(pool, sell_base, seed, base_share, quote_share, mid_cents,
                                                        sizes):
    inv = oe.Inventory(pool.target_base_atoms * base_share // 100, pool.target_quote_atoms * quote_share // 100, NOW)
    mid = Decimal(mid_cents) / 100 if sell_base else 100 / Decimal(mid_cents)
    in_mint, out_mint = (pool.base_mint, pool.quote_mint) if sell_base else (pool.quote_mint, pool.base_mint)
    out = oe.exact_in_pricer(pool, inv, mid, in_mint, out_mint, seed)
    # the sizes whose payout at mid is the inventory, and just around it (the cap the curves search for)
    cap = inv.quote_atoms * 10**9 // (mid_cents * 10**4) if sell_base else inv.base_atoms * mid_cents * 10**4 // 10**9
    for x in [*sizes, *(max(1, cap + k) for k in (-2, -1, 0, 1)), pool.min_trade_base_atoms, pool.max_trade_base_atoms]:
        assert out(x) == expected(pool, inv, mid, in_mint, out_mint, x, seed), x


def test_pricer_accepts_and_prices_sizes_inside_the_pool_in_both_directions():
    pool = POOLS[0]
    inv = oe.Inventory(pool.target_base_atoms, pool.target_quote_atoms, NOW)
    mid = Decimal(150)  # the pool's mid: quote per base, whichever way the order goes
    for in_mint, out_mint in ((SOL.mint, USDC.mint), (USDC.mint, SOL.mint)):
        out = oe.exact_in_pricer(pool, inv, mid, in_mint, out_mint, 3)
        unit = 10**9 if in_mint == SOL.mint else 150 * 10**6  # one SOL's worth of the input
        sizes = [k * unit for k in (200, 1_000, 10_000)]  # above the 100 SOL minimum after the spread
        got = [out(x) for x in sizes]
        assert got == [expected(pool, inv, mid, in_mint, out_mint, x, 3) for x in sizes]
        assert all(g is not None for g in got) and got == sorted(got)  # accepted, and more in gives more out


def test_pricer_refuses_what_quote_pool_refuses_for_every_size():
    usdc = POOLS[0]
    inactive = dataclasses.replace(usdc, active=False)
    inv = oe.Inventory(usdc.target_base_atoms, usdc.target_quote_atoms, NOW)
    x = 2 * usdc.min_trade_base_atoms
    assert oe.exact_in_pricer(inactive, inv, Decimal(150), SOL.mint, USDC.mint)(x) is None
    assert oe.exact_in_pricer(usdc, inv, Decimal(150), SOL.mint, USDT.mint)(x) is None  # not its pair
    assert oe.exact_in_pricer(usdc, inv, Decimal(150), SOL.mint, USDC.mint)(x) == expected(
        usdc, inv, Decimal(150), SOL.mint, USDC.mint, x, 0) > 0
    with pytest.raises(ValueError, match="mid_price"):
        oe.exact_in_pricer(usdc, inv, Decimal(0), SOL.mint, USDC.mint)


def test_execution_delay_is_the_same_after_its_memo():
    pool = POOLS[0]

    def by_hand(params: oe.PoolParams, seed: int) -> int:  # the rule, computed without the memo
        digest = hashlib.blake2b(f"{params.name}:{seed}".encode(), digest_size=8).digest()
        span = 2 * params.delay_jitter_ms + 1
        return max(0, params.execution_delay_ms + int.from_bytes(digest, "big") % span - params.delay_jitter_ms)

    for _ in range(2):  # the second round is served from the memo
        assert [oe.execution_delay_ms(pool, seed) for seed in range(2_000)] == [by_hand(pool, s) for s in range(2_000)]
    renamed = dataclasses.replace(pool, name=pool.name + "-b", execution_delay_ms=pool.execution_delay_ms + 7)
    assert [oe.execution_delay_ms(renamed, s) for s in range(200)] == [by_hand(renamed, s) for s in range(200)]
    assert len({oe.execution_delay_ms(pool, s) for s in range(200)}) > 1  # the jitter varies by seed


def test_vol_spread_memo_keeps_validation_and_exact_values():
    assert oe.vol_spread_bps(Decimal(80), Decimal(1), 1_000) == oe.vol_spread_bps(Decimal("80.00"), Decimal(1), 1_000)
    assert oe.vol_spread_bps(80, Decimal(1), 1_000) == oe.vol_spread_bps(Decimal(80), Decimal(1), 1_000)  # ints too
    assert str(oe.vol_spread_bps(Decimal("-0"), Decimal(1), 1_000)) == "-0.0000"  # the zero's sign, as before
    with pytest.raises(ValueError):
        oe.vol_spread_bps(80.0, Decimal(1), 1_000)  # type: ignore[arg-type]  # a float, never
    with pytest.raises(ValueError):
        oe.vol_spread_bps(Decimal(80), Decimal(1), True)  # type: ignore[arg-type]
