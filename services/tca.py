"""Transaction-cost analysis, the service side: the decision-time facts of a trade (components, benchmarks, a TWAP
simulated on the market model) and the background step that computes markouts when they fall due.

The math is core/tca.py; the rows are ledger/tca_store.py. Benchmarks, each an (in, out) of the same order at the
arrival mid's instant: `jupiter_one_shot` the full-order Jupiter option, `best_single_venue` the cheapest single venue
option (all-in) the router saw, `twap` the order cut into TCA_TWAP_SLICES equal slices over TCA_TWAP_HORIZON_S on
Jupiter's cost curve, the impact of earlier slices decaying with half-life TCA_TWAP_HALF_LIFE_S (core.tca.twap_fill).
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy.exc import SQLAlchemyError

import jupiter_api
from core import allocator, tca
from core.curves import VenueCurve
from core.orders import Decision, Order, VenueOption
from core.venue import JUPITER, VenueKind, kind_of
from ledger import tca_store
from ledger.tca_store import Decided
from models import db
from services.market import Market

log = logging.getLogger(__name__)


def _jupiter_fee_share(option: VenueOption | None) -> Decimal:
    """The share of Jupiter's cost that is fees: its quote's execution cost less its stated price impact (which
    excludes fees), over that cost; 0..1, 0 without a quote."""
    if option is None or option.execution_cost_bps is None or option.price_impact_bps is None \
            or option.execution_cost_bps <= 0:
        return Decimal(0)
    fees = max(Decimal(0), option.execution_cost_bps - option.price_impact_bps)
    return min(Decimal(1), fees / option.execution_cost_bps)


def twap_benchmark(market: Market, order: Order, curves: Sequence[VenueCurve]) -> tuple[int, int] | None:
    """The TWAP benchmark's (in, out) atoms on Jupiter's cost curve, or None without a curve for the whole order."""
    s = market.settings
    curve = next((c for c in curves if c.venue == JUPITER), None)
    if curve is None:
        return None
    line = allocator.Curve(curve.venue, curve.knots, curve.min_atoms, curve.max_atoms)
    survive = tca.survive_fraction(s.tca_twap_horizon_s / s.tca_twap_slices, s.tca_twap_half_life_s)
    return tca.twap_fill(order, line, s.tca_twap_slices, survive)


def decided(market: Market, order: Order, options: Sequence[VenueOption], decision: Decision, mid: Decimal,
            curves: Sequence[VenueCurve] = ()) -> Decided:
    """The decision-time TCA facts of a decision: arrival mid, decided impact/fees/spread and every benchmark."""
    by_venue = {o.venue: o for o in options if o.available}
    jupiter = by_venue.get(JUPITER)
    legs = []
    for leg in decision.legs:
        option = by_venue.get(leg.venue)
        fee = leg.fee_atoms if leg.fee_atoms is not None else (option.fee_atoms if option else 0)
        legs.append(tca.LegCost(leg.venue, leg.in_amount_atoms, leg.out_amount_atoms, fee or 0,
                                _jupiter_fee_share(jupiter) if kind_of(leg.venue) is VenueKind.JUPITER else Decimal(0)))
    parts = tca.decided_components(order, mid, legs)
    best = None
    if decision.best_single_in_amount_atoms is not None and decision.best_single_out_amount_atoms is not None:
        best = (decision.best_single_in_amount_atoms, decision.best_single_out_amount_atoms)
    one_shot = None
    if jupiter is not None and jupiter.in_amount_atoms is not None and jupiter.out_amount_atoms is not None:
        one_shot = (jupiter.in_amount_atoms, jupiter.out_amount_atoms)
    s = market.settings
    return Decided(mid, parts["impact"], parts["fees"], parts["spread"],
                   {"jupiter_one_shot": one_shot, "best_single_venue": best,
                    "twap": twap_benchmark(market, order, curves)},
                   {"slices": s.tca_twap_slices, "horizon_s": s.tca_twap_horizon_s,
                    "half_life_s": s.tca_twap_half_life_s})


def markouts(market: Market, now: datetime, limit: int = 500) -> int:
    """The background step: every markout due at `now` (fill + 1/10/60/300 s), from the reference price at its due
    instant (the simulator's is a pure function of time; live prices are the latest); stored; rows updated."""
    found: list[tuple[tca_store.TradeTca, dict[int, Decimal]]] = []
    for row, trade in tca_store.due(now, limit):
        assert row.filled_at is not None
        order = tca_store.order_of(trade)
        values: dict[int, Decimal] = {}
        for h in tca.MARKOUT_HORIZONS_S:
            at_s = row.filled_at.timestamp() + h
            if getattr(row, f"markout_{h}s_bps") is not None or at_s > now.timestamp():
                continue
            try:
                later = market.mid_price(order.input_token, order.output_token, at_s)
            except jupiter_api.JupiterError:
                break  # no reference now: try again on the next round
            values[h] = tca.markout_bps(order, row.arrival_mid, later)
        if values:  # none: no reference price now; the row stays due for the next round
            found.append((row, values))
    try:
        return tca_store.store_markouts(found)
    except SQLAlchemyError:
        db.session.rollback()
        log.warning("storing markouts failed", exc_info=True)
        return 0
