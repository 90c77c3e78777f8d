"""The pool engine's ExactIn pricer (built once per cost curve) answers exactly what quote_pool answers."""
from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import otc_engine as oe
from core.tokens import SOL, USDC, USDT
from core.units import SwapMode

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
POOLS = oe.DEFAULT_POOLS[:2]


def expected(params: oe.PoolParams, inv: oe.Inventory, mid: Decimal, in_mint: str, out_mint: str, x: int,
             seed: int) -> int | None:
    """quote_pool's ExactIn output for x, or None when it refuses."""
    q = oe.quote_pool(params, inv, mid, in_mint, out_mint, x, SwapMode.EXACT_IN, NOW, jitter_seed=seed)
    return q.out_amount_atoms if isinstance(q, oe.OtcQuote) else None


@settings(max_examples=300, deadline=None)
@given(pool=st.sampled_from(POOLS), sell_base=st.booleans(), seed=st.integers(0, 10**6),
       base_share=st.integers(0, 200), quote_share=st.integers(0, 200), mid_cents=st.integers(1_000, 100_000),
       sizes=st.lists(st.integers(-5, 10**15), min_size=1, max_size=8))
def test_pricer_output_equals_quote_pool_at_every_size(pool, sell_base, seed, base_share, quote_share, mid_cents,
                                                        sizes):
    inv = oe.Inventory(pool.target_base_atoms * base_share // 100, pool.target_quote_atoms * quote_share // 100, NOW)
    mid = Decimal(mid_cents) / 100 if sell_base else 100 / Decimal(mid_cents)
    in_mint, out_mint = (pool.base_mint, pool.quote_mint) if sell_base else (pool.quote_mint, pool.base_mint)
    out = oe.exact_in_pricer(pool, inv, mid, in_mint, out_mint, seed)
    near_cap = [max(1, inv.quote_atoms * 10**9 // (mid_cents * 10**4) - k) for k in (0, 1, 2)] if sell_base else []
    for x in sizes + near_cap + [pool.min_trade_base_atoms, pool.max_trade_base_atoms]:
        assert out(x) == expected(pool, inv, mid, in_mint, out_mint, x, seed), x


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
    first = [oe.execution_delay_ms(pool, seed) for seed in range(2_000)]
    assert first == [oe.execution_delay_ms(pool, seed) for seed in range(2_000)]
    assert len(set(first)) > 1  # the jitter varies by seed
    renamed = dataclasses.replace(pool, name=pool.name + "-b")
    assert [oe.execution_delay_ms(renamed, seed) for seed in range(200)] != first[:200]  # keyed on the name too
