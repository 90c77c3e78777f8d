"""The simulated Jupiter POST /swap/v1/swap: an unsigned VersionedTransaction (MessageV0) for the quoted route.

Pure: time and seed passed in. The transaction's one Jupiter-program instruction carries the quote's terms (mints,
mode, fixed amount, threshold); its recent blockhash is the current block's, valid until lastValidBlockHeight.
"""
from __future__ import annotations

import base64
from dataclasses import replace
from typing import Any

from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from sim import chain
from sim.price import SimConfig

COMPUTE_UNIT_LIMIT = 200_000


def _bad(message: str) -> tuple[int, dict[str, Any]]:
    """Jupiter's 400 answer to a swap request it cannot build."""
    return 400, {"error": message, "errorCode": "INVALID_REQUEST"}


def swap_response(body: Any, now_s: float, config: SimConfig) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON body) of POST /swap/v1/swap: swapTransaction (base64) and lastValidBlockHeight."""
    if not isinstance(body, dict):
        return _bad("request body must be a JSON object")
    quote, user = body.get("quoteResponse"), body.get("userPublicKey")
    if not isinstance(quote, dict):
        return _bad("quoteResponse is required")
    try:
        owner = Pubkey.from_string(user) if isinstance(user, str) else None
    except ValueError:
        owner = None
    if owner is None:
        return _bad("userPublicKey is not a valid public key")
    try:
        terms = chain.terms_of_quote(quote)
        Pubkey.from_string(terms.input_mint), Pubkey.from_string(terms.output_mint)
    except (ValueError, KeyError, TypeError):
        return _bad("quoteResponse is not a valid quote")
    if terms.amount_atoms <= 0 or terms.threshold_atoms < 0 or terms.input_mint == terms.output_mint:
        return _bad("quoteResponse is not a valid quote")
    terms = replace(terms, built_at_us=int(now_s * 1_000_000))
    height = chain.height_at(now_s)
    message = MessageV0.try_compile(owner, [terms.instruction(owner)], [], chain.blockhash_at(height, config))
    tx = VersionedTransaction.populate(message, [Signature.default()])
    return 200, {
        "swapTransaction": base64.b64encode(bytes(tx)).decode(),
        "lastValidBlockHeight": height + chain.MAX_PROCESSING_AGE,
        "prioritizationFeeLamports": 0,
        "computeUnitLimit": COMPUTE_UNIT_LIMIT,
        "prioritizationType": {"computeBudget": {"microLamports": 0, "estimatedMicroLamports": 0}},
        "dynamicSlippageReport": None,
        "simulationError": None,
    }
