"""A trade's legs executed with the Jupiter leg on chain, and recovery of a trade whose transaction may have landed.

A Jupiter leg's transaction carries the trade's own limit: its threshold is the trade's minimum out less what every
other leg delivers (ExactIn), or its maximum in less what they take (ExactOut), so a fill that would break the
accepted limit fails on chain and moves nothing; with two Jupiter legs (a maker leg re-routed at last look) each
counts the other's amount, not the whole Jupiter remainder. Amounts are integer atoms.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

import trade_logger
from core.venue import JUPITER
from ledger import chain_legs, partial_fills
from models import Trade, TradeLeg
from services import onchain
from services.market import Market
from venues.solana_rpc import SolanaRpcError

log = logging.getLogger(__name__)
UNCONFIRMED_CODE = "TX_UNCONFIRMED"
FAILED_ON_CHAIN = "TX_FAILED"


@dataclass
class Executed:
    """Each leg's executed (in, out) atoms, in plan order, and the slot of each on-chain leg by leg id."""

    fills: list[tuple[int, int]] = field(default_factory=list)
    slots: dict[int, int] = field(default_factory=dict)


class FailedOnChain(Exception):
    """The Jupiter leg's transaction landed with an error (meta.err): nothing but the fee moved."""

    def __init__(self, err: object) -> None:
        super().__init__(f"the swap transaction failed on chain ({err})")
        self.err = err


def leg_threshold(plan: trade_logger.FillPlan, index: int, done: list[tuple[int, int]],
                  quote_threshold_atoms: int) -> int:
    """Jupiter leg `index`'s min out (ExactIn) / max in (ExactOut) in atoms: its quote's, tightened to the trade's
    limit less every other leg: what the legs before it moved (`done`, (in, out) in plan order) and what the legs
    after it plan. Another Jupiter leg (a maker leg re-routed at last look) is another leg, not part of this one."""
    order, d = plan.order, plan.decision
    others = [(leg.in_amount_atoms, leg.out_amount_atoms) for leg in plan.legs[index + 1:]] + done[:index]
    if order.exact_in and d.min_out_amount_atoms is not None:
        return max(quote_threshold_atoms, d.min_out_amount_atoms - sum(out for _, out in others))
    if not order.exact_in and d.max_in_amount_atoms is not None:
        return min(quote_threshold_atoms, d.max_in_amount_atoms - sum(in_ for in_, _ in others))
    return quote_threshold_atoms


def execute(market: Market, plan: trade_logger.FillPlan, leg_ids: list[int]) -> Executed:
    """OTC legs at their firm amounts; the Jupiter leg quoted now, swapped, signed, sent and confirmed: its amounts
    are what moved in the wallet. Raises JupiterError, onchain.NotLanded, onchain.Unconfirmed, FailedOnChain."""
    assert market.chain is not None
    order, done = plan.order, Executed()
    for index, (leg, leg_id) in enumerate(zip(plan.legs, leg_ids, strict=True)):
        if leg.venue != JUPITER:
            done.fills.append((leg.in_amount_atoms, leg.out_amount_atoms))
            continue
        q = market.leg_quote(order, leg.in_amount_atoms if order.exact_in else leg.out_amount_atoms, plan.arrival_mid)
        threshold = leg_threshold(plan, index, done.fills, q.other_amount_threshold_atoms)
        raw = dict(q.raw, otherAmountThreshold=str(threshold))
        landed = onchain.execute_swap(market.chain, replace(q, raw=raw),
                                      lambda sig, height, i=leg_id: chain_legs.record_signature(i, sig, height))
        if landed.err is not None:
            raise FailedOnChain(landed.err)
        market.apply_jupiter_fill(q, time.time())  # persistent impact: the landed route moves the simulated pools
        done.fills.append((landed.in_amount_atoms, landed.out_amount_atoms))
        done.slots[leg_id] = landed.slot
    return done


def recover_trade(chain: onchain.OnChain | None, trade: Trade, now: datetime,
                  kept: Mapping[int, tuple[str, int, int]] | None = None) -> Trade | None:
    """Finish a `pending`/`unknown` trade whose Jupiter leg was signed, by asking the chain: landed -> filled at what
    moved; definitely not landed -> failed and released; still undecided -> `unknown` (None: left as it is).

    `kept`: maker legs accepted at last look (leg id -> (venue, in, out) atoms): filled in every outcome, so a
    trade whose Jupiter leg did not land is `partial` rather than failed (issue 15)."""
    kept = dict(kept or {})

    def fail(code: str, reason: str) -> Trade:
        if kept:
            return partial_fills.settle_partial(trade.id, kept, code, f"partially filled: the maker legs accepted "
                                                f"at last look filled; the rest did not: {reason}", now)
        return trade_logger.fail(trade.id, code, reason, now)

    legs: list[TradeLeg] = [leg for leg in trade.legs if leg.pool_id is None and leg.tx_signature]
    if chain is None:
        return None if trade.status == "unknown" else chain_legs.mark_unknown(
            trade.id, UNCONFIRMED_CODE, "its transaction was signed but this process has no chain access", now)
    fills, slots = {}, {}
    try:
        for leg in legs:
            assert leg.tx_signature is not None
            found = onchain.check(chain, trade.input_mint, trade.output_mint, leg.tx_signature,
                                  leg.last_valid_block_height)
            if found is None:
                return None if trade.status == "unknown" else chain_legs.mark_unknown(
                    trade.id, UNCONFIRMED_CODE, "its transaction was sent but is not confirmed yet", now)
            if found.err is not None:
                return fail(FAILED_ON_CHAIN, f"the swap transaction {found.signature} failed on chain ({found.err}); "
                            "every reservation was released")
            fills[leg.id], slots[leg.id] = (found.in_amount_atoms, found.out_amount_atoms), found.slot
    except onchain.NotLanded as exc:
        return fail(exc.code, f"{exc}; every reservation was released")
    except SolanaRpcError:
        log.warning("the chain could not say whether trade %s landed; it stays %s", trade.id, trade.status)
        return None
    fills.update({leg_id: (in_atoms, out_atoms) for leg_id, (_, in_atoms, out_atoms) in kept.items()})
    return trade_logger.settle(trade.id, fills, now, slots=slots,
                               venues={leg_id: venue for leg_id, (venue, _, _) in kept.items()})
