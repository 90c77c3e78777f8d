"""Rules of the OTC dealer pools: money math to the atom, limits, inventory, and invariants (hypothesis)."""
from __future__ import annotations

import ast
import dataclasses
import math
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import otc_engine as oe
from core.desk_pools import DEFAULT_POOLS
from core.tokens import SOL, USDC, USDT
from otc_engine import Inventory, OtcQuote, OtcRefusal, PoolParams

ROOT = Path(__file__).resolve().parents[1]

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
SOL_ATOMS, USD_ATOMS = 10**9, 10**6
SOL_USDC = DEFAULT_POOLS[0]
SOL_USDT = DEFAULT_POOLS[1]
# A pool with round numbers for hand computation: 10 bps spread, no size or vol add-on, 5 bps fee.
SIMPLE = PoolParams(
    name="simple", base_mint=SOL.mint, quote_mint=USDC.mint, base_decimals=9, quote_decimals=6,
    base_spread_bps=Decimal(10), size_spread_bps=Decimal(0), size_exponent=Decimal(1), annual_vol_pct=Decimal(0),
    vol_z=Decimal(1), fee_bps=Decimal(5), min_trade_base_atoms=1 * SOL_ATOMS, max_trade_base_atoms=10**6 * SOL_ATOMS,
    target_base_atoms=10**6 * SOL_ATOMS, target_quote_atoms=10**9 * USD_ATOMS, replenish_pct_per_hour=Decimal(10),
    execution_delay_ms=1000, delay_jitter_ms=0, quote_ttl_ms=15_000,
)


def full(params: PoolParams) -> Inventory:
    """A pool's inventory at its targets."""
    return Inventory(params.target_base_atoms, params.target_quote_atoms, NOW)


def quote(params: PoolParams, sell_sol: bool, amount: int, mode: str = "ExactIn", *, inv: Inventory | None = None,
          mid: Decimal = Decimal(150), seed: int = 0) -> OtcQuote | OtcRefusal:
    """Quote SOL -> quote token (sell_sol) or quote token -> SOL on a pool."""
    pair = (params.base_mint, params.quote_mint) if sell_sol else (params.quote_mint, params.base_mint)
    return oe.quote_pool(params, inv or full(params), mid, *pair, amount, mode, NOW, seed)


def ok(result: OtcQuote | OtcRefusal) -> OtcQuote:
    """The quote, failing the test with the refusal's reason otherwise."""
    assert isinstance(result, OtcQuote), result
    return result


def refused(result: OtcQuote | OtcRefusal) -> str:
    """The refusal's reason, failing the test if a quote came back."""
    assert isinstance(result, OtcRefusal), result
    return result.reason


def rate(mid: Decimal, sell_sol: bool) -> Fraction:
    """Output atoms per input atom at mid on a SOL(9)/USD(6) pool."""
    per_lamport = Fraction(mid) * USD_ATOMS / SOL_ATOMS
    return per_lamport if sell_sol else 1 / per_lamport


# --- purity -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("module", ["otc_engine.py", "core/otc_types.py"])
def test_engine_imports_only_stdlib_and_tokens_and_reads_no_clock(module: str):
    tree = ast.parse((ROOT / module).read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    allowed = {"__future__", "hashlib", "collections", "dataclasses", "datetime", "decimal", "functools", "core"}
    assert imported <= allowed
    attributes = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    assert not attributes & {"now", "utcnow", "today", "time", "monotonic", "random"}
    assert "float" not in {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


# --- money math, by hand ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("sell_sol", "in_atoms", "out_atoms", "fee_atoms"), [
    # 100 SOL at 150 = 15,000,000,000 USDC atoms; *0.999 = 14,985,000,000; fee ceil(*0.0005) = 7,492,500
    (True, 100_000_000_000, 14_977_507_500, 7_492_500),
    # 15,000,000,001.05 at mid; *0.999 = 14,985,000,001.04895 -> floor 14,985,000,001; fee ceil(7,492,500.0005)
    (True, 100_000_000_007, 14_977_507_500, 7_492_501),
    # 15,000 USDC = 100 SOL at mid; *0.999 = 99,900,000,000 lamports; fee 49,950,000
    (False, 15_000_000_000, 99_850_050_000, 49_950_000),
    # 100,000,000,006.67 at mid; *0.999 = 99,900,000,006.66 -> floor; fee ceil(49,950,000.003) = 49,950,001
    (False, 15_000_000_001, 99_850_050_005, 49_950_001),
])
def test_exact_in_output_rounds_down_and_fee_in_output_rounds_up(sell_sol, in_atoms, out_atoms, fee_atoms):
    q = ok(quote(SIMPLE, sell_sol, in_atoms))
    assert (q.in_amount_atoms, q.out_amount_atoms, q.fee_atoms) == (in_atoms, out_atoms, fee_atoms)
    assert q.spread_bps == Decimal(10)


@pytest.mark.parametrize(("sell_sol", "out_atoms", "in_atoms", "fee_atoms"), [
    # exactly the ExactIn result of 100 SOL: 100 SOL in; fee share of input 100 SOL * 5 bps = 0.05 SOL
    (True, 14_977_507_500, 100_000_000_000, 50_000_000),
    # one atom more needs gross 14,985,000,002 = floor(0.14985 * k) >= 2 extra -> k = 14 lamports more
    (True, 14_977_507_501, 100_000_000_014, 50_000_001),
    (False, 99_850_050_000, 15_000_000_000, 7_500_000),
    # one lamport more needs gross 99,900,000,002 -> 15,000.000001 USDC (floor(x * 6.66) jumps by 6)
    (False, 99_850_050_001, 15_000_000_001, 7_500_001),
])
def test_exact_out_input_is_the_least_that_delivers_and_rounds_up(sell_sol, out_atoms, in_atoms, fee_atoms):
    q = ok(quote(SIMPLE, sell_sol, out_atoms, "ExactOut"))
    assert (q.in_amount_atoms, q.out_amount_atoms, q.fee_atoms) == (in_atoms, out_atoms, fee_atoms)
    assert ok(quote(SIMPLE, sell_sol, in_atoms - 1)).out_amount_atoms < out_atoms  # one atom less would not do


@pytest.mark.parametrize(("alpha", "size_bps", "out_atoms"), [
    # 15,000 USDC payout of 30,000 USDC inventory: fraction 1/2; spread 10 + 100 * (1/2)**alpha
    (Decimal(1), Decimal(50), 14_902_545_000),  # 15e9 * 0.9940 = 14,910,000,000 - fee 7,455,000
    (Decimal(2), Decimal(25), 14_940_026_250),  # 15e9 * 0.9965 = 14,947,500,000 - fee 7,473,750
])
def test_size_spread_grows_with_the_fraction_of_inventory_paid_out(alpha, size_bps, out_atoms):
    pool = dataclasses.replace(SIMPLE, size_spread_bps=Decimal(100), size_exponent=alpha)
    inv = Inventory(10**6 * SOL_ATOMS, 30_000 * USD_ATOMS, NOW)
    q = ok(quote(pool, True, 100 * SOL_ATOMS, inv=inv))
    assert (q.size_spread_bps, q.spread_bps, q.out_amount_atoms) == (size_bps, 10 + size_bps, out_atoms)


@pytest.mark.parametrize(("vol_pct", "z", "delay_ms", "bps"), [
    (Decimal(80), Decimal(1), 365 * 24 * 3600 * 1000, Decimal(8000)),  # one year: z * sigma_annual
    (Decimal(80), Decimal(1), 31_536, Decimal(8)),  # 1e-6 year: sqrt = 1e-3
    (Decimal(80), Decimal("2.5"), 31_536, Decimal(20)),
    (Decimal(80), Decimal(1), 1_500, Decimal("1.7448")),  # 1.744746408... rounded UP to 0.0001 bps
    (Decimal(80), Decimal(1), 0, Decimal(0)),
    (Decimal(0), Decimal(1), 1_500, Decimal(0)),
])
def test_vol_spread_is_z_sigma_sqrt_delay_rounded_up(vol_pct, z, delay_ms, bps):
    assert oe.vol_spread_bps(vol_pct, z, delay_ms) == bps


def test_vol_spread_is_charged_over_the_pools_execution_delay():
    pool = dataclasses.replace(SIMPLE, annual_vol_pct=Decimal(80), execution_delay_ms=31_536)
    q = ok(quote(pool, True, 100 * SOL_ATOMS))
    # spread 10 + 8 = 18 bps: 15e9 * 0.9982 = 14,973,000,000 - fee 7,486,500
    assert (q.vol_spread_bps, q.spread_bps, q.out_amount_atoms) == (Decimal(8), Decimal(18), 14_965_513_500)


def test_quote_names_its_venue_parts_and_expiry():
    q = ok(quote(SOL_USDC, True, 1_000 * SOL_ATOMS, seed=7))
    assert q.venue == "otc:sol-usdc" and q.swap_mode == "ExactIn" and q.base_atoms == 1_000 * SOL_ATOMS
    assert (q.input_mint, q.output_mint, q.base_mint) == (SOL.mint, USDC.mint, SOL.mint)
    assert q.spread_bps == q.base_spread_bps + q.size_spread_bps + q.vol_spread_bps
    assert q.execution_delay_ms == oe.execution_delay_ms(SOL_USDC, 7)
    assert q.vol_spread_bps == oe.vol_spread_bps(Decimal(80), Decimal(1), q.execution_delay_ms)
    assert (q.quoted_at, q.expires_at) == (NOW, NOW + timedelta(seconds=15))
    buy = ok(quote(SOL_USDC, False, 1_000 * SOL_ATOMS, "ExactOut"))
    assert buy.base_atoms == buy.out_amount_atoms == 1_000 * SOL_ATOMS


# --- refusals -----------------------------------------------------------------------------------------------------


def test_trade_below_min_size_is_refused():
    assert "below min trade size (100 SOL)" in refused(quote(SOL_USDC, True, 10 * SOL_ATOMS))
    assert "below min trade size (100 SOL)" in refused(quote(SOL_USDC, False, 1_500 * USD_ATOMS))


@pytest.mark.parametrize(("sell_sol", "amount", "mode"), [
    (True, 50_001 * SOL_ATOMS, "ExactIn"),
    (False, 50_001 * SOL_ATOMS, "ExactOut"),
    (False, 7_600_000 * USD_ATOMS, "ExactIn"),  # buys ~50,600 SOL
    (True, 7_600_000 * USD_ATOMS, "ExactOut"),  # sells ~50,700 SOL
])
def test_trade_above_max_size_is_refused(sell_sol, amount, mode):
    assert "above max trade size (50,000 SOL)" in refused(quote(SOL_USDC, sell_sol, amount, mode))


@pytest.mark.parametrize("mode", ["ExactIn", "ExactOut"])
def test_payout_beyond_inventory_is_refused(mode):
    inv = Inventory(150_000 * SOL_ATOMS, 1_000_000 * USD_ATOMS, NOW)
    amount = 10_000 * SOL_ATOMS if mode == "ExactIn" else 1_000_001 * USD_ATOMS
    reason = refused(quote(SOL_USDC, True, amount, mode, inv=inv))
    assert "beyond available inventory" in reason and "1,000,000 USDC" in reason


def test_payout_valued_at_mid_must_fit_inventory_even_if_the_spread_would_cover_it():
    inv = Inventory(0, 15_000 * USD_ATOMS - 1, NOW)  # 100 SOL is worth 15,000 USDC at mid: one atom short
    assert "beyond available inventory" in refused(quote(SIMPLE, True, 100 * SOL_ATOMS, inv=inv))


def test_inactive_pool_refuses_every_trade():
    assert "inactive" in refused(quote(dataclasses.replace(SOL_USDC, active=False), True, 1_000 * SOL_ATOMS))


@pytest.mark.parametrize(("input_mint", "output_mint"), [
    (SOL.mint, USDT.mint), (USDC.mint, USDT.mint), (SOL.mint, SOL.mint), (USDC.mint, USDC.mint)])
def test_other_pairs_are_refused(input_mint, output_mint):
    result = oe.quote_pool(SOL_USDC, full(SOL_USDC), Decimal(150), input_mint, output_mint, 10**12, "ExactIn", NOW)
    assert refused(result) == "pool trades SOL/USDC only"


@pytest.mark.parametrize("amount", [0, -1, -(10**12)])
def test_zero_or_negative_amount_is_refused(amount):
    assert refused(quote(SOL_USDC, True, amount)) == "amount must be greater than zero"


@pytest.mark.parametrize(("field", "value"), [
    ("swap_mode", "exactin"), ("mid", 150.0), ("mid", Decimal(0)), ("mid", Decimal("NaN")),
    ("now", datetime(2025, 1, 1)), ("amount", True), ("amount", 1.5),
])
def test_malformed_quote_requests_raise(field, value):
    args = {"swap_mode": "ExactIn", "mid": Decimal(150), "now": NOW, "amount": 10**12} | {field: value}
    with pytest.raises(ValueError):
        oe.quote_pool(SOL_USDC, full(SOL_USDC), args["mid"], SOL.mint, USDC.mint, args["amount"],
                      args["swap_mode"], args["now"])


# --- configuration ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("changes", [
    {"base_spread_bps": Decimal(-1)}, {"size_spread_bps": Decimal(-1)}, {"fee_bps": Decimal(-1)},
    {"fee_bps": 1.5}, {"size_exponent": Decimal(0)}, {"annual_vol_pct": Decimal("Infinity")},
    {"min_trade_base_atoms": 0}, {"min_trade_base_atoms": SIMPLE.max_trade_base_atoms + 1},
    {"base_decimals": 19}, {"quote_decimals": -1}, {"quote_ttl_ms": 0}, {"delay_jitter_ms": -5},
    {"target_base_atoms": 1.0}, {"name": ""}, {"quote_mint": SOL.mint}, {"active": "yes"},
    {"base_spread_bps": Decimal(9_000), "size_spread_bps": Decimal(500)},  # could charge over 100 % at full size
])
def test_pool_params_refuse_impossible_configuration(changes):
    with pytest.raises(ValueError):
        dataclasses.replace(SIMPLE, **changes)


def test_pool_params_store_int_settings_as_decimal():
    pool = dataclasses.replace(SIMPLE, fee_bps=3)
    assert pool.fee_bps == Decimal(3) and isinstance(pool.fee_bps, Decimal)
    assert SOL_USDC.venue == "otc:sol-usdc" and SOL_USDT.venue == "otc:sol-usdt"


def test_default_pools_cost_10_to_30_bps_for_a_25k_sol_sell_and_refuse_10_sol():
    for pool in DEFAULT_POOLS:
        q = ok(quote(pool, True, 25_000 * SOL_ATOMS))
        value_at_mid = Fraction(q.in_amount_atoms) * rate(Decimal(150), True)
        cost_bps = (value_at_mid - q.out_amount_atoms) / value_at_mid * 10_000
        assert 10 <= cost_bps <= 30, pool.name
        assert "below min trade size" in refused(quote(pool, True, 10 * SOL_ATOMS))


# --- timing -------------------------------------------------------------------------------------------------------


def test_execution_delay_is_a_pure_function_of_seed_within_the_jitter():
    delays = [oe.execution_delay_ms(SOL_USDC, seed) for seed in range(300)]
    assert delays == [oe.execution_delay_ms(SOL_USDC, seed) for seed in range(300)]
    assert all(1_000 <= d <= 2_000 for d in delays) and len(set(delays)) > 100
    assert oe.execution_delay_ms(SIMPLE, 123) == 1_000  # no jitter configured


def test_execution_delay_is_never_negative():
    pool = dataclasses.replace(SIMPLE, execution_delay_ms=10, delay_jitter_ms=1_000)
    assert min(oe.execution_delay_ms(pool, seed) for seed in range(500)) == 0


# --- inventory ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("held_sol", "elapsed", "expected_sol", "expected_usdc"), [
    # 10 % per hour of the 150,000 SOL and 22,500,000 USDC targets: 15,000 SOL and 2,250,000 USDC an hour
    (100_000, timedelta(hours=1), 115_000, 2_250_000),
    (100_000, timedelta(minutes=30), 107_500, 1_125_000),
    (100_000, timedelta(hours=10), 150_000, 22_500_000),  # capped at the target
    (160_000, timedelta(minutes=6), 158_500, 225_000),  # above target: moves down toward it
    (160_000, timedelta(hours=5), 150_000, 11_250_000),
    (150_000, timedelta(hours=3), 150_000, 6_750_000),
])
def test_replenish_moves_each_side_toward_its_target_at_the_hourly_rate(held_sol, elapsed, expected_sol,
                                                                         expected_usdc):
    inv = oe.replenish(SOL_USDC, Inventory(held_sol * SOL_ATOMS, 0, NOW), NOW + elapsed)
    assert (inv.base_atoms, inv.quote_atoms, inv.as_of) == (
        expected_sol * SOL_ATOMS, expected_usdc * USD_ATOMS, NOW + elapsed)


def test_replenish_rounds_down_to_whole_atoms():
    pool = dataclasses.replace(SIMPLE, target_base_atoms=1_000, target_quote_atoms=3_600)
    inv = oe.replenish(pool, Inventory(0, 0, NOW), NOW + timedelta(seconds=35))  # 100 * 35/3600 = 0.97 atoms
    assert (inv.base_atoms, inv.quote_atoms) == (0, 3)  # 360 * 35/3600 = 3.5 atoms


@pytest.mark.parametrize("later", [NOW, NOW - timedelta(seconds=1)])
def test_replenish_never_goes_back_in_time(later):
    inv = Inventory(0, 0, NOW)
    assert oe.replenish(SOL_USDC, inv, later) is inv


def test_apply_fill_moves_exactly_the_quoted_amounts():
    inv = full(SOL_USDC)
    sell = ok(quote(SOL_USDC, True, 25_000 * SOL_ATOMS))
    after = oe.apply_fill(inv, sell)
    assert after.base_atoms - inv.base_atoms == sell.in_amount_atoms
    assert inv.quote_atoms - after.quote_atoms == sell.out_amount_atoms  # the fee never left the dealer
    buy = ok(quote(SOL_USDC, False, 1_000_000 * USD_ATOMS))
    after = oe.apply_fill(inv, buy)
    assert (inv.base_atoms - after.base_atoms, after.quote_atoms - inv.quote_atoms) == (
        buy.out_amount_atoms, buy.in_amount_atoms)


def test_apply_fill_refuses_to_oversell():
    q = ok(quote(SOL_USDC, True, 25_000 * SOL_ATOMS))
    with pytest.raises(ValueError, match="non-negative"):
        oe.apply_fill(Inventory(0, q.out_amount_atoms - 1, NOW), q)


def test_apply_fill_infers_the_side_of_a_quote_without_base_mint():
    q = ok(quote(SOL_USDC, False, 1_000_000 * USD_ATOMS))
    inv = full(SOL_USDC)
    assert oe.apply_fill(inv, dataclasses.replace(q, base_mint="")) == oe.apply_fill(inv, q)
    ambiguous = dataclasses.replace(q, base_mint="", in_amount_atoms=q.out_amount_atoms)
    with pytest.raises(ValueError, match="base_mint"):
        oe.apply_fill(inv, ambiguous)


def test_inventory_is_kept_in_utc_and_refuses_naive_times():
    plus_two = datetime(2025, 1, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    assert Inventory(1, 1, plus_two).as_of == NOW and Inventory(1, 1, plus_two).as_of.tzinfo == UTC
    with pytest.raises(ValueError):
        Inventory(1, 1, datetime(2025, 1, 1))


def test_payout_available_is_the_inventory_of_the_output_side():
    inv = Inventory(5, 7, NOW)
    assert [oe.payout_available(SOL_USDC, inv, m) for m in (SOL.mint, USDC.mint, USDT.mint)] == [5, 7, 0]


# --- invariants (hypothesis) --------------------------------------------------------------------------------------

mids = st.decimals(min_value=Decimal(20), max_value=Decimal(400), places=4)
sol_sizes = st.integers(min_value=100 * SOL_ATOMS, max_value=50_000 * SOL_ATOMS)
inner_sol_sizes = st.integers(min_value=101 * SOL_ATOMS, max_value=49_500 * SOL_ATOMS)  # clear of min/max after spread


def usd_for(sol_atoms: int, mid: Decimal) -> int:
    """USD atoms worth sol_atoms at mid (rounded down)."""
    return int(Fraction(sol_atoms) * rate(mid, True))


@given(mid=mids, sizes=st.tuples(inner_sol_sizes, inner_sol_sizes), sell_sol=st.booleans(), seed=st.integers(0, 5))
def test_spread_never_shrinks_as_the_trade_grows(mid, sizes, sell_sol, seed):
    small, large = sorted(size if sell_sol else usd_for(size, mid) for size in sizes)  # buying SOL is sized in USD
    a, b = (ok(quote(SOL_USDC, sell_sol, amount, mid=mid, seed=seed)) for amount in (small, large))
    assert a.size_spread_bps <= b.size_spread_bps and a.spread_bps <= b.spread_bps
    assert a.out_amount_atoms <= b.out_amount_atoms


@given(mid=mids, sol=sol_sizes, sell_sol=st.booleans(), exact_in=st.booleans(), seed=st.integers(0, 100))
def test_trader_never_receives_more_than_the_value_at_mid(mid, sol, sell_sol, exact_in, seed):
    amount = sol if sell_sol == exact_in else usd_for(sol, mid)
    result = quote(SOL_USDC, sell_sol, amount, "ExactIn" if exact_in else "ExactOut", mid=mid, seed=seed)
    if isinstance(result, OtcQuote):
        assert result.out_amount_atoms < result.in_amount_atoms * rate(mid, sell_sol)
        assert result.fee_atoms > 0


@given(mid=mids, sol=st.integers(102 * SOL_ATOMS, 50_000 * SOL_ATOMS), sell_sol=st.booleans())
def test_exact_out_of_an_exact_in_result_costs_at_most_the_same_input(mid, sol, sell_sol):
    """ExactIn(x) -> y, then ExactOut(y) -> x': x' <= x, short only by the input atoms one output atom spans."""
    amount = sol if sell_sol else usd_for(sol, mid) * 99 // 100
    first = ok(quote(SOL_USDC, sell_sol, amount, mid=mid))
    back = ok(quote(SOL_USDC, sell_sol, first.out_amount_atoms, "ExactOut", mid=mid))
    assert back.out_amount_atoms == first.out_amount_atoms
    span = math.ceil(2 / rate(mid, sell_sol) * Fraction(101, 100)) + 2  # input atoms per 2 output atoms, + 2
    assert 0 <= first.in_amount_atoms - back.in_amount_atoms <= span


@given(mid=mids, sol=st.integers(101 * SOL_ATOMS, 49_000 * SOL_ATOMS), sell_sol=st.booleans())
def test_exact_out_is_never_a_better_price_than_exact_in(mid, sol, sell_sol):
    """ExactOut(y) -> x'; ExactIn(x') pays y or a hair more: the trader gives up at most one input atom's worth."""
    want = usd_for(sol, mid) if sell_sol else sol
    out_quote = ok(quote(SOL_USDC, sell_sol, want, "ExactOut", mid=mid))
    in_quote = ok(quote(SOL_USDC, sell_sol, out_quote.in_amount_atoms, mid=mid))
    assert 0 <= in_quote.out_amount_atoms - want <= math.ceil(rate(mid, sell_sol)) + 2


@given(mid=mids, sol=sol_sizes, sell_sol=st.booleans(), exact_in=st.booleans(),
       held=st.tuples(st.integers(0, 200_000 * SOL_ATOMS), st.integers(0, 30_000_000 * USD_ATOMS)))
def test_apply_fill_conserves_the_quoted_amounts_and_never_oversells(mid, sol, sell_sol, exact_in, held):
    inv = Inventory(*held, NOW)
    amount = sol if sell_sol == exact_in else usd_for(sol, mid)
    q = quote(SOL_USDC, sell_sol, amount, "ExactIn" if exact_in else "ExactOut", inv=inv, mid=mid)
    if isinstance(q, OtcQuote):
        after = oe.apply_fill(inv, q)
        moved = (after.base_atoms - inv.base_atoms, after.quote_atoms - inv.quote_atoms)
        sol_moved, usd_moved = (q.in_amount_atoms, -q.out_amount_atoms) if sell_sol else (-q.out_amount_atoms,
                                                                                          q.in_amount_atoms)
        assert moved == (sol_moved, usd_moved)


hours = st.integers(min_value=0, max_value=20 * 3_600_000_000).map(lambda us: timedelta(microseconds=us))
holdings = st.tuples(st.integers(0, 300_000 * SOL_ATOMS), st.integers(0, 45_000_000 * USD_ATOMS))


@given(held=holdings, first=hours, second=hours)
def test_replenish_in_two_steps_matches_one_step_within_an_atom(held, first, second):
    """Flooring each step loses under one atom per side per extra step; targets cap both paths alike."""
    start = Inventory(*held, NOW)
    stepped = oe.replenish(SOL_USDC, oe.replenish(SOL_USDC, start, NOW + first), NOW + first + second)
    direct = oe.replenish(SOL_USDC, start, NOW + first + second)
    assert abs(stepped.base_atoms - direct.base_atoms) <= 1 and abs(stepped.quote_atoms - direct.quote_atoms) <= 1
    assert stepped.as_of == direct.as_of or first + second == timedelta(0)


@given(held=holdings, elapsed=hours)
def test_replenish_never_overshoots_the_target(held, elapsed):
    start = Inventory(*held, NOW)
    after = oe.replenish(SOL_USDC, start, NOW + elapsed)
    for before, now, target in ((start.base_atoms, after.base_atoms, SOL_USDC.target_base_atoms),
                                (start.quote_atoms, after.quote_atoms, SOL_USDC.target_quote_atoms)):
        assert min(before, target) <= now <= max(before, target)


# --- inventory skew (issue 14 item 3) -------------------------------------------------------------------------------

SKEWED = dataclasses.replace(SIMPLE, inventory_skew_bps=Decimal(20))
LONG_SOL = Inventory(SKEWED.target_base_atoms * 3 // 2, SKEWED.target_quote_atoms // 2, NOW)  # imbalance +0.5


def test_a_balanced_dealer_does_not_skew():
    assert oe.inventory_imbalance(SKEWED, full(SKEWED)) == 0
    assert ok(quote(SKEWED, True, 100 * SOL_ATOMS)).out_amount_atoms == ok(quote(SIMPLE, True, 100 * SOL_ATOMS)) \
        .out_amount_atoms


@pytest.mark.parametrize(("base", "quote_", "imbalance"), [(3, 1, Decimal("0.5")), (1, 3, Decimal("-0.5")),
                                                           (1, 0, Decimal(1)), (0, 1, Decimal(-1))])
def test_imbalance_compares_each_side_to_its_target(base: int, quote_: int, imbalance: Decimal):
    inv = Inventory(base * SKEWED.target_base_atoms // 2, quote_ * SKEWED.target_quote_atoms // 2, NOW)
    assert oe.inventory_imbalance(SKEWED, inv) == imbalance


def test_a_long_dealer_charges_sellers_and_pays_buyers_the_skew():
    assert oe.skew_bps(SKEWED, LONG_SOL, sells_base=True) == Decimal(10)  # 20 bps × 0.5
    assert oe.skew_bps(SKEWED, LONG_SOL, sells_base=False) == Decimal(-10)


def test_flow_that_rebalances_a_long_pool_gets_a_better_price_than_flow_that_drains_it():
    """Long SOL: a buyer of SOL (rebalancing) gets more than at balance, a seller (draining USDC) gets less."""
    sell_skewed = ok(quote(SKEWED, True, 100 * SOL_ATOMS, inv=LONG_SOL))
    sell_flat = ok(quote(SIMPLE, True, 100 * SOL_ATOMS, inv=LONG_SOL))
    buy_skewed = ok(quote(SKEWED, False, 15_000 * USD_ATOMS, inv=LONG_SOL))
    buy_flat = ok(quote(SIMPLE, False, 15_000 * USD_ATOMS, inv=LONG_SOL))
    assert sell_skewed.out_amount_atoms < sell_flat.out_amount_atoms
    assert buy_skewed.out_amount_atoms > buy_flat.out_amount_atoms
    assert (sell_skewed.skew_bps, buy_skewed.skew_bps) == (Decimal(10), Decimal(-10))
    assert sell_skewed.spread_bps == sell_flat.spread_bps + 10  # the skew is charged inside the reported spread


def test_an_exact_out_quote_carries_the_same_skew():
    q = ok(quote(SKEWED, True, 15_000 * USD_ATOMS, "ExactOut", inv=LONG_SOL))
    assert q.skew_bps == Decimal(10) and q.out_amount_atoms == 15_000 * USD_ATOMS


def test_skew_strength_is_bounded():
    with pytest.raises(ValueError, match="inventory_skew_bps"):
        dataclasses.replace(SIMPLE, inventory_skew_bps=Decimal(101))


def test_the_default_desk_pools_skew_by_15_bps_at_full_imbalance():
    assert all(p.inventory_skew_bps == 15 for p in DEFAULT_POOLS)
