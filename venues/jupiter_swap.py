"""Jupiter's POST /swap/v1/swap: the unsigned swap transaction for a quote, strictly parsed.

Same transports as the Solana client (venues/solana_rpc: a JSON body in, a RawResponse out). wrapAndUnwrapSol is
off, so SOL moves as wrapped SOL and every leg's amounts show in the wallet's token balances.
"""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from venues.jupiter_wire import JupiterError, MalformedResponseError, UpstreamUnavailableError, parse_error
from venues.solana_rpc import JsonTransport, RpcUnavailableError


@dataclass(frozen=True, slots=True)
class SwapTransaction:
    """Jupiter's answer: the unsigned transaction (base64) and the last block height its blockhash is valid at."""

    transaction_base64: str
    last_valid_block_height: int


def swap_body(quote: dict[str, Any], user_pubkey: str) -> dict[str, Any]:
    """The request body of POST /swap for a quoteResponse and the desk wallet."""
    return {"quoteResponse": quote, "userPublicKey": user_pubkey, "wrapAndUnwrapSol": False,
            "dynamicComputeUnitLimit": True, "prioritizationFeeLamports": "auto"}


def parse_swap(body: Any) -> SwapTransaction:
    """The 200 body of POST /swap; MalformedResponseError when a field is missing or ill-typed."""
    if not isinstance(body, dict):
        raise MalformedResponseError("swap answer is not a JSON object")
    tx, height = body.get("swapTransaction"), body.get("lastValidBlockHeight")
    if not isinstance(tx, str) or not tx:
        raise MalformedResponseError("swap.swapTransaction is missing")
    try:
        base64.b64decode(tx, validate=True)
    except (ValueError, binascii.Error):
        raise MalformedResponseError("swap.swapTransaction is not base64") from None
    if isinstance(height, bool) or not isinstance(height, int) or height < 0:
        raise MalformedResponseError(f"swap.lastValidBlockHeight is not a block height: {height!r}")
    if body.get("simulationError"):
        raise JupiterError(f"Jupiter's simulation of the swap failed: {body['simulationError']}", code="SWAP_FAILED")
    return SwapTransaction(tx, height)


class SwapClient:
    """POST /swap through a transport."""

    def __init__(self, transport: JsonTransport) -> None:
        self.transport = transport

    def swap(self, quote: dict[str, Any], user_pubkey: str) -> SwapTransaction:
        """The unsigned transaction for a quoteResponse; a JupiterError for every failure."""
        try:
            raw = self.transport(swap_body(quote, user_pubkey))
        except RpcUnavailableError as exc:
            raise UpstreamUnavailableError(f"Jupiter swap is unreachable ({exc})") from None
        if raw.status != 200:
            raise parse_error(raw.status, raw.text, raw.headers)
        try:
            body = json.loads(raw.text)
        except ValueError:
            raise MalformedResponseError("Jupiter sent invalid JSON for the swap", status=200) from None
        return parse_swap(body)
