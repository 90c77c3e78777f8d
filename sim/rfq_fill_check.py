"""A simulated maker's check of the fill transaction a Jupiter Z `/swap` carries (core/rfq_fill.py), before it
accepts: decoded, paid by this maker, signed by the taker, one order-engine `fill` for exactly the quoted terms.

Pure (the time is passed in). Like the toolkit's own validation, anything else is a rejection with the reason.
"""
from __future__ import annotations

import base64
import hashlib

from solders.keypair import Keypair
from solders.message import to_bytes_versioned
from solders.transaction import VersionedTransaction

from core import rfq_fill


def maker_keypair(maker: str) -> Keypair:
    """A simulated maker's keypair, a pure function of its name (its pubkey is the `maker` its quotes name)."""
    return Keypair.from_seed(hashlib.blake2b(f"olr-sim-maker:{maker}".encode(), digest_size=32).digest())


def check_fill(transaction: str, expected: rfq_fill.FillTerms, now_s: float) -> str | None:
    """Why the swap's transaction is not the fill this maker quoted (a sentence), or None when it is."""
    try:
        tx = VersionedTransaction.from_bytes(base64.b64decode(transaction, validate=True))
    except ValueError:
        return "the transaction is not a base64 VersionedTransaction"
    msg, keys = tx.message, tx.message.account_keys
    if msg.header.num_required_signatures != 2 or len(tx.signatures) != 2:
        return "the fill must have two signers, the maker then the taker"
    if str(keys[0]) != expected.maker:
        return "the fee payer is not this maker"
    if expected.taker and str(keys[1]) != expected.taker:
        return "the taker is not the one that asked for the quote"
    if not tx.signatures[1].verify(keys[1], to_bytes_versioned(msg)):
        return "the taker's signature does not verify"
    fills = []
    for ix in msg.instructions:
        program = str(keys[ix.program_id_index])
        if program == rfq_fill.ORDER_ENGINE_PROGRAM_ID:
            fills.append(ix)
        elif program != rfq_fill.COMPUTE_BUDGET_PROGRAM_ID:
            return f"unexpected program {program}"
    if len(fills) != 1:
        return "the transaction must hold exactly one fill instruction"
    accounts = [str(keys[i]) for i in bytes(fills[0].accounts)]
    parsed = rfq_fill.parse_fill_data(bytes(fills[0].data))
    if parsed is None or len(accounts) <= rfq_fill.OUTPUT_MINT:
        return "not an order-engine fill instruction"
    if (accounts[rfq_fill.TAKER], accounts[rfq_fill.MAKER]) != (str(keys[1]), expected.maker):
        return "the fill's taker or maker account is wrong"
    if (accounts[rfq_fill.INPUT_MINT], accounts[rfq_fill.OUTPUT_MINT]) != (expected.input_mint,
                                                                             expected.output_mint):
        return "the fill is for other mints"
    in_atoms, out_atoms, expire_at_s = parsed
    if (in_atoms, out_atoms) != (expected.in_amount_atoms, expected.out_amount_atoms):
        return "the fill's amounts are not the quoted ones"
    if not now_s < expire_at_s <= now_s + 2 * rfq_fill.EXPIRY_S:
        return "the fill has expired or expires too late"
    return None
