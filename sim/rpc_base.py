"""The simulated Solana JSON-RPC node's shared parts: error codes, the RpcError object, the store it lands on, and
parameter helpers (sim/rpc.py answers the reads, sim/rpc_send.py sendTransaction)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from solders.pubkey import Pubkey

from sim import chain

LAMPORTS = "lamports"  # the store's key of a wallet's native SOL balance
API_VERSION = "2.2.14"
PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS = -32700, -32600, -32601, -32602
PREFLIGHT_FAILURE, SIGNATURE_FAILURE, VERSION_UNSUPPORTED = -32002, -32003, -32015
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


class ChainStore(Protocol):
    """Where the chain keeps landed transactions and balances (atoms changed since the wallet's funding)."""

    def landed(self, signature: str) -> dict[str, Any] | None:
        """The landed record {signature, slot, tx, err, pre, post} or None."""

    def balances(self, owner: str) -> dict[str, int]:
        """Each key's (mint or 'lamports') change in atoms since funding."""

    def land(self, signature: str, owner: str, slot: int, tx: str, err: Any, deltas: dict[str, int]) -> bool:
        """Apply deltas and record the transaction atomically; False if the signature landed already."""

    def displaced(self, now_s: float) -> Mapping[str, int]:
        """Each simulated pool's displacement by our past swaps at now_s (base atoms per amm_key)."""


class RpcError(Exception):
    """A JSON-RPC error object: code, message and optional data."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code, self.message, self.data = code, message, data

    def body(self) -> dict[str, Any]:
        """The error object."""
        return {"code": self.code, "message": self.message} | ({} if self.data is None else {"data": self.data})


def b58encode(raw: bytes) -> str:
    """Base58 (Bitcoin alphabet) of bytes."""
    n, out = int.from_bytes(raw, "big"), ""
    while n:
        n, r = divmod(n, 58)
        out = _B58[r] + out
    return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + out


def context(now_s: float) -> dict[str, Any]:
    """The `context` of an answer: the slot now and the node's version."""
    return {"slot": chain.slot_at(now_s), "apiVersion": API_VERSION}


def pubkey(value: Any) -> Pubkey:
    """A base58 public key parameter, or the node's invalid-param error."""
    try:
        return Pubkey.from_string(value)
    except (ValueError, TypeError):
        raise RpcError(INVALID_PARAMS, "Invalid param: Invalid") from None


def options(params: list[Any], index: int) -> dict[str, Any]:
    """The configuration object at params[index] ({} when absent), or the invalid-params error."""
    opts = params[index] if len(params) > index else {}
    if not isinstance(opts, dict):
        raise RpcError(INVALID_PARAMS, "Invalid params: configuration must be an object")
    return opts
