"""One home per rule: units, swap mode, venue names, min-out / max-in, savings, the pool mid, and the decision codec."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import codec
from core.orders import Decision, Leg, Order
from core.tokens import SOL, USDC, USDT
from core.units import (
    BPS_PLACES,
    SwapMode,
    bps_of,
    ceil_div,
    invert_price,
    max_in,
    min_out,
    pool_mid,
    saved_atoms,
)
from core.venue import JUPITER, Venue, VenueKind, is_otc, kind_of, pool_name


@pytest.mark.parametrize(("text", "mode"), [("ExactIn", SwapMode.EXACT_IN), ("ExactOut", SwapMode.EXACT_OUT)])
def test_swap_mode_parses_only_jupiters_spelling(text: str, mode: SwapMode) -> None:
    assert SwapMode.parse(text) is mode and mode == text


@pytest.mark.parametrize("text", ["exactin", "EXACT_IN", "", None, 1, "ExactIn "])
def test_any_other_swap_mode_is_refused(text: object) -> None:
    with pytest.raises(ValueError, match="ExactIn or ExactOut"):
        SwapMode.parse(text)


def test_an_order_carries_its_mode_as_the_type() -> None:
    order = Order(SOL, USDC, 1, "ExactOut", 50)  # type: ignore[arg-type]
    assert order.swap_mode is SwapMode.EXACT_OUT and not order.exact_in


@pytest.mark.parametrize(("text", "kind", "name"), [("jupiter", VenueKind.JUPITER, ""), ("otc:sol-usdc", VenueKind.OTC,
                                                     "sol-usdc"), ("rfq:wintermute", VenueKind.RFQ, "wintermute"),
                                                    ("split", VenueKind.SPLIT, "")])
def test_venue_names_round_trip_through_the_type(text: str, kind: VenueKind, name: str) -> None:
    venue = Venue.parse(text)
    assert (venue.kind, venue.name, str(venue)) == (kind, name, text)
    assert kind_of(text) is kind and is_otc(text) == (kind is VenueKind.OTC)
    assert pool_name(text) == (name if kind is VenueKind.OTC else None)


@pytest.mark.parametrize("text", ["otc:", "otc", "dex:orca", "", "Jupiter", "rfq"])
def test_an_unknown_venue_name_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="unknown venue"):
        Venue.parse(text)


def test_a_dealer_venue_is_firm_and_jupiter_is_not() -> None:
    assert Venue.parse("otc:x").is_dealer and Venue.parse("rfq:y").is_dealer and not Venue.parse(JUPITER).is_dealer


@pytest.mark.parametrize(("out", "slip", "least"), [(10_000, 50, 9_950), (9_999, 50, 9_949), (1, 1, 0), (7, 5000, 3)])
def test_min_out_rounds_down(out: int, slip: int, least: int) -> None:
    assert min_out(out, slip) == least


@pytest.mark.parametrize(("inp", "slip", "most"), [(10_000, 50, 10_050), (9_999, 50, 10_049), (1, 1, 2), (7, 5000, 11)])
def test_max_in_rounds_up(inp: int, slip: int, most: int) -> None:
    assert max_in(inp, slip) == most


@given(st.integers(1, 2**63), st.integers(1, 2**20))
def test_ceil_div_is_the_least_integer_not_below_the_quotient(a: int, b: int) -> None:
    q = ceil_div(a, b)
    assert q * b >= a > (q - 1) * b


def test_savings_count_extra_output_exact_in_and_input_spared_exact_out() -> None:
    assert saved_atoms(SwapMode.EXACT_IN, 100, 1_010, 100, 1_000) == (10, 1_000)
    assert saved_atoms(SwapMode.EXACT_OUT, 990, 50, 1_000, 50) == (10, 1_000)
    assert bps_of(10, 1_000) == Decimal("100.0000")
    assert bps_of(1, 3) == Decimal("3333.3333")  # rounded down: a saving is never overstated
    assert bps_of(-1, 3) == Decimal("-3333.3334")


def test_the_pool_mid_is_the_order_mid_or_its_inverse_at_one_precision() -> None:
    mid = Decimal("150.123456789")
    assert pool_mid(mid, sells_base=True) == mid
    assert pool_mid(mid, sells_base=False) == invert_price(mid)
    assert abs(invert_price(invert_price(mid)) - mid) < Decimal("1e-50")


def test_stablecoins_are_one_set() -> None:
    assert USDC.stable and USDT.stable and not SOL.stable


def _decision() -> Decision:
    order = Order(SOL, USDC, 25_000 * 10**9, SwapMode.EXACT_IN, 50)
    legs = (Leg("otc:sol-usdc", 23_730_470_000_000, 3_559_000_123_456, Decimal("14.4321"), Decimal("15.0001"), 12, 250),
            Leg(JUPITER, 1_269_530_000_000, 190_000_000_000, Decimal("30.1234")))
    return Decision(legs=legs, in_amount_atoms=order.amount_atoms, out_amount_atoms=3_749_000_123_456,
                    cost_bps=Decimal("15.2468"), min_out_amount_atoms=3_730_255_122_838, max_in_amount_atoms=None,
                    jupiter_only_in_amount_atoms=order.amount_atoms, jupiter_only_out_amount_atoms=3_700_000_000_000,
                    savings_atoms=49_000_123_456, savings_bps=Decimal("132.4327"), explanation="split",
                    best_single_venue="otc:sol-usdc", best_single_in_amount_atoms=order.amount_atoms,
                    best_single_out_amount_atoms=3_740_000_000_000, best_single_cost_bps=Decimal("16.0003"),
                    split_gain_atoms=9_000_123_456, split_gain_bps=Decimal("24.0645"))


def test_a_stored_decision_round_trips_exactly() -> None:
    d = _decision()
    assert codec.decision_from_json(codec.decision_json(d, exact=True)) == d


def test_the_display_shape_rounds_bps_to_a_tenth_and_is_not_what_is_stored() -> None:
    shown = codec.decision_json(_decision())
    assert shown["cost_bps"] == "15.2" and shown["legs"][0]["cost_bps"] == "14.4"
    assert codec.decision_from_json(shown) != _decision()


def test_bps_places_are_a_ten_thousandth() -> None:
    assert Decimal("0.0001") == BPS_PLACES
