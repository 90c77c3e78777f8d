"""Validation of the simulated DEX's GET /quote query parameters, the way Jupiter validates them.

Pure: no I/O. A bad request raises Reject(errorCode, message), which the simulator answers as HTTP 400.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from core.units import BPS
from sim.price import TRADABLE_MINTS

U64_MAX = 2**64 - 1
_MINT_RE = re.compile(r"[1-9A-HJ-NP-Za-km-z]{32,44}")


class Reject(Exception):
    """A request the simulator answers with HTTP 400 and Jupiter's error body."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True, slots=True)
class QuoteRequest:
    """A validated quote request (wire names in snake_case)."""

    input_mint: str
    output_mint: str
    amount: int
    slippage_bps: int
    swap_mode: str
    only_direct: bool
    dexes: frozenset[str] | None
    exclude_dexes: frozenset[str]


def _param(params: Mapping[str, str], name: str, default: str | None = None) -> str:
    """One query parameter as a stripped string; INVALID_REQUEST if missing (without default) or not a string."""
    value = params.get(name, default)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise Reject("INVALID_REQUEST", f"Query parameter {name} is required")
    if not isinstance(value, str):
        raise Reject("INVALID_REQUEST", f"Query parameter {name} must be a string")
    return value.strip()


def _int_param(params: Mapping[str, str], name: str, low: int, high: int, default: str | None = None) -> int:
    """A query parameter holding a base-10 integer within [low, high]."""
    text = _param(params, name, default)
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        message = f"Query parameter {name} must be an integer from {low} to {high}, got {text!r}"
        raise Reject("INVALID_REQUEST", message)
    return int(text)


def _bool_param(params: Mapping[str, str], name: str) -> bool:
    """A query parameter holding true or false (default false)."""
    text = _param(params, name, "false").lower()
    if text not in ("true", "false"):
        raise Reject("INVALID_REQUEST", f"Query parameter {name} must be true or false, got {text!r}")
    return text == "true"


def _labels(params: Mapping[str, str], name: str) -> frozenset[str] | None:
    """A comma-separated list of DEX labels, or None when absent."""
    if params.get(name) is None:
        return None
    return frozenset(label.strip() for label in _param(params, name).split(",") if label.strip())


def parse_request(params: Mapping[str, str]) -> QuoteRequest:
    """Validate GET /quote query parameters the way Jupiter does; raise Reject (HTTP 400) otherwise."""
    mints = [_param(params, "inputMint"), _param(params, "outputMint")]
    for name, mint in zip(("inputMint", "outputMint"), mints, strict=True):
        if not _MINT_RE.fullmatch(mint):
            raise Reject("INVALID_REQUEST", f"Query parameter {name} is not a valid mint address: {mint!r}")
    if mints[0] == mints[1]:
        raise Reject("CIRCULAR_ARBITRAGE_IS_DISABLED", "Input and output mints are not allowed to be equal")
    for mint in mints:
        if mint not in TRADABLE_MINTS:
            raise Reject("TOKEN_NOT_TRADABLE", f"The token {mint} is not tradable")
    swap_mode = _param(params, "swapMode", "ExactIn")
    if swap_mode not in ("ExactIn", "ExactOut"):
        raise Reject("INVALID_REQUEST", f"Query parameter swapMode must be ExactIn or ExactOut, got {swap_mode!r}")
    if params.get("maxAccounts") is not None:
        _int_param(params, "maxAccounts", 1, 256)  # accepted and validated; the simulator's routes are small anyway
    _bool_param(params, "restrictIntermediateTokens")  # USDC and SOL are always allowed as intermediates
    return QuoteRequest(
        input_mint=mints[0],
        output_mint=mints[1],
        amount=_int_param(params, "amount", 1, U64_MAX),
        slippage_bps=_int_param(params, "slippageBps", 0, BPS, "50"),
        swap_mode=swap_mode,
        only_direct=_bool_param(params, "onlyDirectRoutes"),
        dexes=_labels(params, "dexes"),
        exclude_dexes=_labels(params, "excludeDexes") or frozenset(),
    )
