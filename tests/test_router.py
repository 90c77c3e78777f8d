"""Rules of the single-venue route decision, on hand-made venue options."""
from __future__ import annotations

from decimal import Decimal

import pytest

from core import orders
from core.orders import Order
from core.router import decide, delay_risk_bps, priced_option, unavailable
from core.tokens import SOL, USDC
from core.units import SwapMode, max_in, min_out

MID = Decimal(150)  # USDC per SOL


def sell(sol: int, slippage_bps: int = 50) -> Order:
    return Order(SOL, USDC, sol * 10**9, SwapMode.EXACT_IN, slippage_bps)


def option(order: Order, venue: str, out_usdc_atoms: int, risk: str = "0", delay_ms: int = 0) -> orders.VenueOption:
    return priced_option(order, venue, order.amount_atoms, out_usdc_atoms, MID, risk_bps=Decimal(risk),
                         delay_ms=delay_ms)


def test_execution_cost_is_output_lost_against_mid_in_bps() -> None:
    order = sell(1000)  # worth 150,000 USDC at mid
    opt = option(order, "jupiter", 149_850_000_000)  # 150 USDC short = 10 bps
    assert opt.execution_cost_bps == Decimal("10.0000")
    assert opt.cost_bps == Decimal("10.0000")


def test_cost_rounds_up_against_the_venue() -> None:
    opt = option(sell(1), "jupiter", 149_999_999)  # 1 atom short of 150 USDC = 0.0000666.. bps
    assert opt.execution_cost_bps == Decimal("0.0001")


def test_the_cheapest_all_in_venue_wins_and_savings_are_measured_against_jupiter() -> None:
    order = sell(25_000)  # 3,750,000 USDC at mid
    jup = option(order, "jupiter", 3_712_500_000_000, risk="0.6")  # 100 bps impact
    otc = option(order, "otc:sol-usdc", 3_745_000_000_000, risk="0.8")  # 13.3 bps
    d = decide(order, [jup, otc])
    assert d.venue == "otc:sol-usdc"
    assert d.savings_atoms == 3_745_000_000_000 - 3_712_500_000_000
    assert d.savings_bps == Decimal("87.5420")  # 32,500 / 3,712,500 × 10^4, rounded down
    assert d.min_out_amount_atoms == 3_745_000_000_000 * 9950 // 10_000
    assert "otc:sol-usdc fills all 25,000 SOL" in d.explanation


def test_delay_risk_can_tip_the_decision_to_the_faster_venue() -> None:
    order = sell(1000)
    slow = option(order, "otc:sol-usdc", 149_900_000_000, risk="5", delay_ms=2000)   # 6.67 + 5 bps
    fast = option(order, "jupiter", 149_880_000_000, risk="0.5", delay_ms=800)       # 8.0 + 0.5 bps
    assert decide(order, [slow, fast]).venue == "jupiter"


def test_unavailable_venues_are_never_chosen_and_are_explained() -> None:
    order = sell(10)
    d = decide(order, [option(order, "jupiter", 1_499_000_000), unavailable("otc:sol-usdc", "below min trade size")])
    assert d.venue == "jupiter"
    assert "otc:sol-usdc (below min trade size)" in d.explanation


def test_no_available_venue_raises_with_every_reason() -> None:
    with pytest.raises(orders.NoRouteAvailable) as exc:
        decide(sell(10), [unavailable("jupiter", "UPSTREAM_UNAVAILABLE"), unavailable("otc:sol-usdc", "inactive")])
    assert exc.value.reasons == {"jupiter": "UPSTREAM_UNAVAILABLE", "otc:sol-usdc": "inactive"}


def test_ties_break_deterministically_by_venue_name() -> None:
    order = sell(100)
    a, b = option(order, "otc:b", 14_990_000_000), option(order, "otc:a", 14_990_000_000)
    assert decide(order, [a, b]).venue == decide(order, [b, a]).venue == "otc:a"


def test_exact_out_picks_the_least_input_and_caps_it_by_slippage() -> None:
    order = Order(SOL, USDC, 150_000_000_000, SwapMode.EXACT_OUT, 100)  # want 150,000 USDC = 1,000 SOL at mid
    cheap = priced_option(order, "otc:sol-usdc", 1_001_000_000_000, 150_000_000_000, MID, risk_bps=Decimal(0),
                          delay_ms=0)
    dear = priced_option(order, "jupiter", 1_002_000_000_000, 150_000_000_000, MID, risk_bps=Decimal(0), delay_ms=0)
    assert cheap.execution_cost_bps == Decimal("10.0000")
    d = decide(order, [dear, cheap])
    assert d.venue == "otc:sol-usdc"
    assert d.savings_atoms == 1_000_000_000  # 1 SOL of input spared
    assert d.max_in_amount_atoms == 1_011_010_000_000
    assert d.min_out_amount_atoms is None


@pytest.mark.parametrize(("out", "slip", "expected"), [(10_000, 50, 9_950), (9_999, 50, 9_949), (1, 5000, 0)])
def test_min_out_rounds_down(out: int, slip: int, expected: int) -> None:
    assert min_out(out, slip) == expected


@pytest.mark.parametrize(("inp", "slip", "expected"), [(10_000, 50, 10_050), (9_999, 50, 10_049), (1, 1, 2)])
def test_max_in_rounds_up(inp: int, slip: int, expected: int) -> None:
    assert max_in(inp, slip) == expected


def test_delay_risk_grows_with_the_square_root_of_delay() -> None:
    one = delay_risk_bps(Decimal(80), Decimal(1), 1000)
    four = delay_risk_bps(Decimal(80), Decimal(1), 4000)
    assert one == Decimal("1.4246")  # 0.8 / sqrt(31,536,000) × 10^4 = 1.42459.., rounded up
    assert four == Decimal("2.8492")  # 2.84918.., rounded up


@pytest.mark.parametrize("kwargs", [
    {"output_token": SOL}, {"slippage_bps": 0}, {"slippage_bps": 5001}, {"swap_mode": "Exact"}, {"amount_atoms": 0},
])
def test_invalid_orders_fail_fast(kwargs: dict) -> None:
    base = {"input_token": SOL, "output_token": USDC, "amount_atoms": 1, "swap_mode": SwapMode.EXACT_IN,
            "slippage_bps": 50}
    with pytest.raises(ValueError):
        Order(**{**base, **kwargs})
