"""The RFQ makers' part of a quote: ask every maker for the order in parallel, check the answers, price them.

One round per order: each usable maker is asked at up to 4 sizes (core.rfq.request_sizes) within the window;
answers are checked against the request (venues.rfq_wire) and against the desk's price band around the reference
mid; what is refused keeps its reason. Answered sizes become the maker's firm points and curve for the router.
The round and each maker's health are written in one short transaction after the calls (none is open during them).
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from core import bands, rfq, router
from core.curves import VenueCurve
from core.orders import Decision, Order, VenueOption
from core.rfq import FAILURES, MakerQuote, MakerRefusal, Refusal
from ledger import maker_log
from ledger.maker_tables import Maker, MakerRequest
from models import db
from services import makers
from services.market import Market
from venues.rfq_client import MakerEndpoint
from venues.rfq_wire import QuoteAsk


@dataclass(frozen=True, slots=True)
class MakerRound:
    """What one round of quote requests gave: options, curves, firm points and the answers behind them."""

    options: tuple[VenueOption, ...] = ()
    curves: tuple[VenueCurve, ...] = ()
    quotes: tuple[MakerQuote, ...] = ()
    refusals: tuple[MakerRefusal, ...] = ()
    endpoints: dict[str, MakerEndpoint] = field(default_factory=dict)
    suspended: tuple[Maker, ...] = ()  # makers this round's failures suspended (their alert belongs to this quote)

    @property
    def firm(self) -> dict[tuple[str, int], tuple[int, int]]:
        """(venue, size) -> quoted (in, out) atoms."""
        return rfq.firm_points(self.quotes)

    @property
    def quoted(self) -> dict[str, set[int]]:
        """Each maker venue's answered sizes."""
        found: dict[str, set[int]] = {}
        for q in self.quotes:
            found.setdefault(q.venue, set()).add(q.size_atoms)
        return found


def _checked(market: Market, order: Order, mid: Decimal, got: MakerQuote | MakerRefusal) -> MakerQuote | MakerRefusal:
    """A maker quote within the desk's price band, else refused as out of band (with the band's sentence)."""
    if isinstance(got, MakerRefusal):
        return got
    sized = Order(order.input_token, order.output_token, got.size_atoms, order.swap_mode, order.slippage_bps)
    why = bands.violation(sized, got.in_amount_atoms, got.out_amount_atoms, mid, market.band)
    if why:
        return MakerRefusal(got.venue, got.size_atoms, Refusal.OUT_OF_BAND, why, got.latency_ms)
    return got


def endpoints_for(market: Market, order: Order, now: datetime,
                  rows: Iterable[Maker] | None = None) -> list[MakerEndpoint]:
    """The makers to ask for the order (none without an RFQ client), read in the caller's read transaction: the
    caller ends it (quoting.gather reads them with the pair's pools, one transaction for both). `rows`: the enabled
    makers when the caller has read them (makers.enabled_makers)."""
    return makers.for_order(order, now, market.settings.maker_key, rows) if market.rfq is not None else []


def gather_makers(market: Market, order: Order, mid: Decimal, now: datetime,
                  endpoints: list[MakerEndpoint] | None = None) -> MakerRound:
    """Ask every usable maker for the order (parallel, within the window), check, record; the round's result.

    `endpoints` as read by endpoints_for() (then the read is over); read here when not given."""
    if market.rfq is None:
        return MakerRound()
    if endpoints is None:
        endpoints = makers.for_order(order, now, market.settings.maker_key)
        db.session.rollback()  # end the read: no transaction stays open while the makers (or Jupiter) are asked
    if not endpoints:
        return MakerRound()
    request_id = str(uuid.uuid4())
    taker = market.chain.wallet.pubkey if market.chain is not None else None  # who will sign the fill
    asks = [(ep, QuoteAsk(ep.venue, request_id, str(uuid.uuid4()), order.input_token.mint,
                          order.output_token.mint, order.swap_mode, size, taker))
            for ep in endpoints for size in rfq.request_sizes(order.amount_atoms)]
    answers = market.rfq.quote_all(asks, market.settings.rfq_window_ms)
    checked = [_checked(market, order, mid, a) for a in answers]
    suspended = _record(market, asks, checked, now)
    quotes = tuple(a for a in checked if isinstance(a, MakerQuote))
    refusals = tuple(a for a in checked if isinstance(a, MakerRefusal))
    options, curves = [], []
    for ep in endpoints:
        mine = [q for q in quotes if q.venue == ep.venue]
        curve = rfq.maker_curve(mine)
        curves += [curve] if curve is not None else []
        options.append(_option(order, ep.venue, mine, [r for r in refusals if r.venue == ep.venue], mid))
    return MakerRound(tuple(options), tuple(curves), quotes, refusals, {ep.venue: ep for ep in endpoints}, suspended)


def _option(order: Order, venue: str, quotes: list[MakerQuote], refused: list[MakerRefusal],
            mid: Decimal) -> VenueOption:
    """The maker's whole-order option (its full-size quote, firm: no timing-risk charge), or why it has none."""
    detail: dict[str, Any] = {"answered_sizes_atoms": [str(q.size_atoms) for q in sorted(
        quotes, key=lambda q: q.size_atoms)], "refused": [
        {"size_atoms": str(r.size_atoms), "code": str(r.code), "reason": r.reason} for r in refused]}
    full = next((q for q in quotes if q.size_atoms == order.amount_atoms), None)
    if full is None:
        why = next((r for r in refused if r.size_atoms == order.amount_atoms), None)
        reason = f"{why.code}: {why.reason}" if why else "no full-size quote"
        return router.unavailable(venue, reason, down=why is not None and why.code in FAILURES)
    detail.update(quote_id=full.quote_id, maker=full.maker, latency_ms=full.latency_ms)
    return router.priced_option(order, venue, full.in_amount_atoms, full.out_amount_atoms, mid,
                                risk_bps=Decimal(0), delay_ms=0, detail=detail)


def _record(market: Market, asks: list[tuple[MakerEndpoint, QuoteAsk]],
            answers: list[MakerQuote | MakerRefusal], now: datetime) -> tuple[Maker, ...]:
    """Store every request of the round and each maker's health (a maker fails a round when all of it failed); the
    makers the round suspended."""
    rows, failed, errors = [], {}, {}
    for (ep, ask), got in zip(asks, answers, strict=True):
        is_quote = isinstance(got, MakerQuote)
        rows.append(MakerRequest(
            maker_id=ep.maker_id, venue=ep.venue, at=now, request_id=ask.request_id, quote_id=ask.quote_id,
            size_atoms=ask.amount_atoms, outcome="quoted" if is_quote else str(got.code),
            reason=None if isinstance(got, MakerQuote) else got.reason[:500], latency_ms=got.latency_ms,
            in_amount_atoms=got.in_amount_atoms if isinstance(got, MakerQuote) else None,
            out_amount_atoms=got.out_amount_atoms if isinstance(got, MakerQuote) else None))
        bad = isinstance(got, MakerRefusal) and got.code in FAILURES
        failed[ep.maker_id] = failed.get(ep.maker_id, True) and bad
        if isinstance(got, MakerRefusal) and bad:
            errors[ep.maker_id] = f"{got.code}: {got.reason}"
    s = market.settings
    return tuple(maker_log.record_round(rows, {mid: maker_log.Health(f, errors.get(mid)) for mid, f in failed.items()},
                                        now, suspend_after=s.rfq_suspend_after, cooldown_s=s.rfq_cooldown_s))


def decide(rnd: MakerRound | None, order: Order, options: Any, curves: Any, mid: Decimal,
           firm: dict[tuple[str, int], tuple[int, int]] | None = None, plans: router.Plans | None = None) -> Decision:
    """The router's decision with maker legs only at quoted sizes (core.rfq.decide); the plain router without;
    `plans` holds the quote's allocations for reuse."""
    if rnd is None or not rnd.quotes:
        return router.decide(order, options, curves, mid, firm, plans)
    return rfq.decide(order, options, curves, mid, {**rnd.firm, **(firm or {})}, rnd.quoted, plans)


def used_quotes(rnd: MakerRound | None, order: Order, decision: Decision) -> list[MakerQuote]:
    """The maker quotes the decision's legs fill (matched by venue and quoted amounts)."""
    if rnd is None:
        return []
    found = []
    for leg in decision.legs:
        q = next((q for q in rnd.quotes if q.venue == leg.venue and (q.in_amount_atoms, q.out_amount_atoms)
                  == (leg.in_amount_atoms, leg.out_amount_atoms)), None)
        found += [q] if q is not None else []
    return found


def note_decision(rnd: MakerRound | None, options: Any, order: Order, decision: Decision,
                  curves: Sequence[VenueCurve] = (), mid: Decimal | None = None) -> None:
    """Mark the maker quotes the decision uses as won, with their improvement vs the best other venue at the same
    leg size at decision time (bps; core.rfq.improvement_bps)."""
    used = used_quotes(rnd, order, decision)
    if not used or rnd is None:
        return
    won: dict[str, object] = {}
    for q in used:
        leg = next(x for x in decision.legs if x.venue == q.venue)
        won[q.quote_id] = None if mid is None else rfq.improvement_bps(order, leg, options, curves, mid, rnd.firm)
    maker_log.mark_won(won)


def expiry(market: Market, quoted_at: datetime, rnd: MakerRound | None, decision: Decision) -> list[datetime]:
    """The expiry a decision using maker quotes must respect: the shorter of the maker's TTL and ours."""
    if not _uses_maker(rnd, decision):
        return []
    s = market.settings
    return [quoted_at + timedelta(milliseconds=min(s.rfq_maker_ttl_ms, s.quote_ttl_ms))]


def _uses_maker(rnd: MakerRound | None, decision: Decision) -> bool:
    """True when a leg of the decision is a maker's."""
    return rnd is not None and any(leg.venue in rnd.endpoints for leg in decision.legs)


def stored(rnd: MakerRound | None) -> list[dict[str, Any]]:
    """The round's answered quotes as JSON, kept with the firm quote so execution can send their swaps."""
    if rnd is None:
        return []
    return [{"venue": q.venue, "maker_id": rnd.endpoints[q.venue].maker_id, "size_atoms": str(q.size_atoms),
             "in_amount_atoms": str(q.in_amount_atoms), "out_amount_atoms": str(q.out_amount_atoms),
             "quote_id": q.quote_id, "request_id": q.request_id, "maker": q.maker} for q in rnd.quotes]
