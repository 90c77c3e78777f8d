"""Solana JSON-RPC 2.0 client: sendTransaction, getSignatureStatuses, getTransaction, balances; typed errors.

A transport takes the request body (dict) and returns a RawResponse: HTTP to SOLANA_RPC_URL, or the simulated
node in-process. Amounts are integer atoms (lamports for native SOL). Times in seconds.
"""
from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

import requests

from core.wire import RawResponse

JsonTransport = Callable[[dict[str, Any]], RawResponse]
REFUSED_CODES = frozenset({-32002, -32003, -32602})  # preflight failed, bad signature, undecodable: never forwarded
TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"


class SolanaRpcError(Exception):
    """A JSON-RPC error object from the node: code, message, data."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"{message} ({code})")
        self.code, self.message, self.data = code, message, data

    @property
    def refused(self) -> bool:
        """True when the node refused the transaction outright (it was not forwarded, so it can never land)."""
        return self.code in REFUSED_CODES


class RpcUnavailableError(SolanaRpcError):
    """The node did not answer (timeout, connection error, HTTP 5xx, not JSON): the outcome of a send is unknown."""

    def __init__(self, message: str) -> None:
        super().__init__(0, message)


class HttpJsonTransport:
    """POST a JSON body to one URL over a reused requests.Session with (connect, read) timeouts in seconds."""

    def __init__(self, url: str, timeout_s: float = 10.0, headers: dict[str, str] | None = None,
                 session: requests.Session | None = None) -> None:
        if not url.startswith(("https://", "http://")):
            raise ValueError(f"URL must start with https:// or http://, got {url!r}")
        self.url, self.timeout = url, (timeout_s, timeout_s)
        self.headers = {"Content-Type": "application/json", "Accept": "application/json"} | (headers or {})
        self.session = session or requests.Session()

    def __call__(self, body: dict[str, Any]) -> RawResponse:
        """One POST; transport failures raise RpcUnavailableError."""
        try:
            resp = self.session.post(self.url, data=json.dumps(body), headers=self.headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise RpcUnavailableError(f"{self.url} is unreachable ({type(exc).__name__})") from exc
        return RawResponse(resp.status_code, resp.headers, resp.content.decode("utf-8", errors="replace"))


class SolanaRpc:
    """The JSON-RPC methods the desk uses, over a transport."""

    def __init__(self, transport: JsonTransport, commitment: str = "confirmed") -> None:
        self.transport, self.commitment = transport, commitment
        self._ids = itertools.count(1)

    def call(self, method: str, params: list[Any]) -> Any:
        """The result of one call; SolanaRpcError for an error object, RpcUnavailableError for no usable answer."""
        raw = self.transport({"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params})
        if raw.status >= 500 or raw.status == 429:
            raise RpcUnavailableError(f"Solana RPC answered HTTP {raw.status}")
        try:
            body = json.loads(raw.text)
        except ValueError:
            raise RpcUnavailableError(f"Solana RPC sent invalid JSON (HTTP {raw.status})") from None
        if not isinstance(body, dict):
            raise RpcUnavailableError("Solana RPC sent a non-object answer")
        err = body.get("error")
        if isinstance(err, dict):
            raise SolanaRpcError(int(err.get("code", 0)), str(err.get("message", "")), err.get("data"))
        if "result" not in body:
            raise RpcUnavailableError("Solana RPC sent neither result nor error")
        return body["result"]

    def send_transaction(self, tx_base64: str, skip_preflight: bool = False) -> str:
        """sendTransaction (base64); the signature the node reports."""
        return str(self.call("sendTransaction", [tx_base64, {
            "encoding": "base64", "skipPreflight": skip_preflight, "preflightCommitment": self.commitment,
            "maxRetries": 0 if skip_preflight else None}]))

    def signature_statuses(self, signatures: list[str]) -> list[dict[str, Any] | None]:
        """getSignatureStatuses with history search: one status or None per signature."""
        result = self.call("getSignatureStatuses", [signatures, {"searchTransactionHistory": True}])
        return list(result["value"])

    def transaction(self, signature: str) -> dict[str, Any] | None:
        """getTransaction jsonParsed (versioned transactions allowed), or None when not landed."""
        return self.call("getTransaction", [signature, {"encoding": "jsonParsed", "commitment": self.commitment,
                                                        "maxSupportedTransactionVersion": 0}])

    def latest_blockhash(self) -> tuple[str, int]:
        """getLatestBlockhash: (blockhash, lastValidBlockHeight)."""
        value = self.call("getLatestBlockhash", [{"commitment": self.commitment}])["value"]
        return str(value["blockhash"]), int(value["lastValidBlockHeight"])

    def block_height(self) -> int:
        """getBlockHeight."""
        return int(self.call("getBlockHeight", [{"commitment": self.commitment}]))

    def balance_lamports(self, pubkey: str) -> int:
        """getBalance: native SOL in lamports."""
        return int(self.call("getBalance", [pubkey, {"commitment": self.commitment}])["value"])

    def token_balances(self, owner: str) -> dict[str, int]:
        """getTokenAccountsByOwner (SPL token program, jsonParsed): atoms per mint, summed over accounts."""
        result = self.call("getTokenAccountsByOwner", [owner, {"programId": TOKEN_PROGRAM},
                                                       {"encoding": "jsonParsed", "commitment": self.commitment}])
        held: dict[str, int] = {}
        for acct in result["value"]:
            info = acct["account"]["data"]["parsed"]["info"]
            held[info["mint"]] = held.get(info["mint"], 0) + int(info["tokenAmount"]["amount"])
        return held


def wallet_deltas(tx: dict[str, Any], owner: str) -> dict[str, int]:
    """The owner's token balance change per mint (atoms, post − pre) in a jsonParsed getTransaction result."""
    meta = tx.get("meta") or {}
    moved: dict[str, int] = {}
    for key, sign in (("preTokenBalances", -1), ("postTokenBalances", 1)):
        for bal in meta.get(key) or []:
            if bal.get("owner") == owner:
                moved[bal["mint"]] = moved.get(bal["mint"], 0) + sign * int(bal["uiTokenAmount"]["amount"])
    return moved
