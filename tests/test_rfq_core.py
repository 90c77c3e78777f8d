"""Rules of RFQ maker routing on hand-made quotes: sizes asked, firm points, legs only at quoted sizes."""
from __future__ import annotations

from decimal import Decimal

from core import rfq, router
from core.curves import VenueCurve
from core.orders import Leg, Order
from core.rfq import MakerQuote
from core.router import priced_option
from core.tokens import SOL, USDC
from core.units import SwapMode
from core.venue import Venue, VenueKind, is_dealer, is_rfq, maker_name

MID = Decimal(150)  # USDC per SOL
SOL_ATOMS = 10**9


def sell(sol: int) -> Order:
    return Order(SOL, USDC, sol * SOL_ATOMS, SwapMode.EXACT_IN, 50)


def maker_quote(venue: str, sol: int, cost_bps: int) -> MakerQuote:
    """A maker's answer selling `sol` SOL at cost_bps below mid."""
    out = sol * 150 * 10**6 * (10_000 - cost_bps) // 10_000
    return MakerQuote(venue, sol * SOL_ATOMS, sol * SOL_ATOMS, out, "r", f"q-{venue}-{sol}", "mm", 20)


def jupiter_curve(order: Order, steep: bool = False) -> VenueCurve:
    """A concave Jupiter-like curve: impact of 1 bp per 100 SOL (steep: 30 bps at 1,000 SOL)."""
    knots = []
    for sol in (10, 100, 250, 400, 1000) if steep else (10, 100, 250, 500, 750, 1000):
        bps = 30 if steep and sol == 1000 else sol // 100
        knots.append((sol * SOL_ATOMS, sol * 150 * 10**6 * (10_000 - bps) // 10_000))
    return VenueCurve("jupiter", tuple(knots), 1, order.amount_atoms, Decimal(0), 0)


def test_rfq_venue_is_a_kind_parsed_in_one_place() -> None:
    v = Venue.parse("rfq:wintermute")
    assert v.kind is VenueKind.RFQ and str(v) == "rfq:wintermute" and str(Venue.rfq("alpha")) == "rfq:alpha"
    assert is_rfq("rfq:alpha") and is_dealer("rfq:alpha") and is_dealer("otc:sol-usdc") and not is_dealer("jupiter")
    assert maker_name("rfq:alpha") == "alpha" and maker_name("otc:sol-usdc") is None


def test_each_maker_is_asked_at_most_four_sizes_the_full_order_first() -> None:
    assert rfq.request_sizes(1000) == [1000, 500, 250, 125]
    assert rfq.request_sizes(3) == [3, 1]
    assert len(rfq.request_sizes(10**15)) == rfq.MAX_SIZES_PER_MAKER


def test_a_maker_curve_passes_through_its_answers_and_carries_no_timing_risk() -> None:
    quotes = [maker_quote("rfq:a", s, 5) for s in (1000, 250, 500)]
    curve = rfq.maker_curve(quotes)
    assert curve is not None and curve.risk_bps == 0
    assert [k[0] for k in curve.knots] == [250 * SOL_ATOMS, 500 * SOL_ATOMS, 1000 * SOL_ATOMS]
    assert curve.max_atoms == 1000 * SOL_ATOMS  # never beyond the largest answered size
    assert rfq.maker_curve([]) is None


def test_maker_legs_are_filled_only_at_quoted_sizes_at_exactly_the_quoted_amounts() -> None:
    order = sell(1000)
    # Jupiter is cheap to 400 SOL then steep; the maker's 500 -> 1,000 piece beats it: the allocator wants
    # 600 SOL on the maker, which is not a quoted size
    quotes = [maker_quote("rfq:a", 125, 2), maker_quote("rfq:a", 250, 2), maker_quote("rfq:a", 500, 3),
              maker_quote("rfq:a", 1000, 12)]
    full = quotes[-1]
    options = [priced_option(order, "rfq:a", full.in_amount_atoms, full.out_amount_atoms, MID, risk_bps=Decimal(0),
                             delay_ms=0)]
    jc = jupiter_curve(order, steep=True)
    jout = jc.knots[-1][1]
    options.append(priced_option(order, "jupiter", order.amount_atoms, jout, MID, risk_bps=Decimal(0), delay_ms=0))
    curves = [jc, rfq.maker_curve(quotes)]
    firm = rfq.firm_points(quotes)
    sizes = {"rfq:a": {q.size_atoms for q in quotes}}
    plain = router.decide(order, options, curves, MID, firm)
    assert any(leg.venue == "rfq:a" and leg.in_amount_atoms not in sizes["rfq:a"] for leg in plain.legs)
    d = rfq.decide(order, options, curves, MID, firm, sizes)
    maker_legs = [leg for leg in d.legs if leg.venue == "rfq:a"]
    assert maker_legs, d.explanation
    for leg in maker_legs:
        assert leg.in_amount_atoms in sizes["rfq:a"]
        assert (leg.in_amount_atoms, leg.out_amount_atoms) == firm[("rfq:a", leg.in_amount_atoms)]
    assert d.in_amount_atoms == order.amount_atoms


def test_without_any_answer_the_plain_router_decides() -> None:
    order = sell(100)
    jc = jupiter_curve(sell(1000))
    opt = priced_option(order, "jupiter", order.amount_atoms, 100 * 150 * 10**6 * 9_999 // 10_000, MID,
                        risk_bps=Decimal(0), delay_ms=0)
    d = rfq.decide(order, [opt], [VenueCurve("jupiter", jc.knots, 1, order.amount_atoms, Decimal(0), 0)], MID, {},
                   {})
    assert d.venue == "jupiter"


def test_a_small_split_legs_improvement_is_measured_against_rivals_at_its_own_size() -> None:
    order = sell(1000)
    curve = jupiter_curve(order)  # Jupiter's impact: 10 bps for the whole order, ~2.5 bps for 250 SOL
    whole = priced_option(order, "jupiter", order.amount_atoms, curve.knots[-1][1], MID, risk_bps=Decimal(0),
                          delay_ms=0)
    q = maker_quote("rfq:alpha", 250, 2)  # the maker's 250 SOL leg costs 2 bps
    leg_cost = priced_option(order, q.venue, q.in_amount_atoms, q.out_amount_atoms, MID, risk_bps=Decimal(0),
                             delay_ms=0).cost_bps
    leg = Leg(q.venue, q.in_amount_atoms, q.out_amount_atoms, leg_cost)
    got = rfq.improvement_bps(order, leg, [whole], [curve], MID, rfq.firm_points([q]))
    jupiter_250 = priced_option(order, "jupiter", 250 * SOL_ATOMS, curve.knots[2][1], MID, risk_bps=Decimal(0),
                                delay_ms=0).cost_bps
    assert got is not None and leg_cost is not None and jupiter_250 is not None and whole.cost_bps is not None
    assert got == jupiter_250 - leg_cost  # 2.5 - 2 bps, not the 10 - 2 of the whole order's rival
    assert got < whole.cost_bps - leg_cost


def test_a_whole_order_makers_improvement_is_against_the_best_other_option() -> None:
    order = sell(250)
    q = maker_quote("rfq:alpha", 250, 2)
    mine = priced_option(order, q.venue, q.in_amount_atoms, q.out_amount_atoms, MID, risk_bps=Decimal(0), delay_ms=0)
    rivals = [priced_option(order, v, order.amount_atoms, 250 * 150 * 10**6 * (10_000 - bps) // 10_000, MID,
                            risk_bps=Decimal(0), delay_ms=0) for v, bps in (("jupiter", 6), ("otc:sol-usdc", 4))]
    leg = Leg(q.venue, q.in_amount_atoms, q.out_amount_atoms, mine.cost_bps)
    got = rfq.improvement_bps(order, leg, [mine, *rivals], [], MID, {})
    assert mine.cost_bps is not None and rivals[1].cost_bps is not None
    assert got == rivals[1].cost_bps - mine.cost_bps
