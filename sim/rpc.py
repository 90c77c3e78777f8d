"""The simulated Solana JSON-RPC 2.0 node: verifies signatures, refuses expired blockhashes, lands swaps on a store.

Pure but for the store it is handed (the ledger's table, shared by every worker). Time is passed in. Amounts are
integer atoms (lamports for SOL's native balance); errors are the JSON-RPC error objects a real node sends.
"""
from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Protocol

from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from core.tokens import TOKENS, token_by_mint
from sim import chain
from sim.price import SimConfig

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


def handle(request: Any, now_s: float, config: SimConfig, store: ChainStore) -> Any:
    """The JSON-RPC response (or list of them, for a batch) to a parsed request body."""
    if isinstance(request, list) and request:
        return [handle(item, now_s, config, store) for item in request]
    rid = request.get("id") if isinstance(request, dict) else None
    if not isinstance(request, dict) or request.get("jsonrpc") != "2.0" or not isinstance(request.get("method"), str):
        return {"jsonrpc": "2.0", "error": {"code": INVALID_REQUEST, "message": "Invalid Request"}, "id": rid}
    method, params = request["method"], request.get("params", [])
    handler = METHODS.get(method)
    try:
        if handler is None:
            raise RpcError(METHOD_NOT_FOUND, "Method not found")
        if not isinstance(params, list):
            raise RpcError(INVALID_PARAMS, "Invalid params: expected a list of parameters")
        result = handler(params, now_s, config, store)
    except RpcError as err:
        return {"jsonrpc": "2.0", "error": err.body(), "id": rid}
    return {"jsonrpc": "2.0", "result": result, "id": rid}


def parse_error() -> dict[str, Any]:
    """The answer to a body that is not JSON."""
    return {"jsonrpc": "2.0", "error": {"code": PARSE_ERROR, "message": "Parse error"}, "id": None}


def _context(now_s: float) -> dict[str, Any]:
    return {"slot": chain.slot_at(now_s), "apiVersion": API_VERSION}


def _pubkey(value: Any) -> Pubkey:
    try:
        return Pubkey.from_string(value)
    except (ValueError, TypeError):
        raise RpcError(INVALID_PARAMS, "Invalid param: Invalid") from None


def _options(params: list[Any], index: int) -> dict[str, Any]:
    opts = params[index] if len(params) > index else {}
    if not isinstance(opts, dict):
        raise RpcError(INVALID_PARAMS, "Invalid params: configuration must be an object")
    return opts


def _preflight(message: str, err: Any) -> RpcError:
    """A failed simulation of sendTransaction, as the node reports it."""
    return RpcError(PREFLIGHT_FAILURE, f"Transaction simulation failed: {message}",
                    {"accounts": None, "err": err, "innerInstructions": None, "logs": [], "replacementBlockhash": None,
                     "returnData": None, "unitsConsumed": 0})


def _execute(tx: VersionedTransaction, owner: str, now_s: float, config: SimConfig,
             store: ChainStore) -> tuple[Any, dict[str, int]]:
    """(meta.err, balance deltas) of running the transaction now: the swap settled against the simulated DEX."""
    msg = tx.message
    keys = msg.account_keys
    deltas = {LAMPORTS: -chain.FEE_LAMPORTS * len(tx.signatures)}
    for i, ix in enumerate(msg.instructions):
        if keys[ix.program_id_index] != chain.JUPITER_PROGRAM:
            continue
        terms = chain.SwapTerms.from_data(bytes(ix.data))
        if terms is None:
            return {"InstructionError": [i, {"Custom": 6000}]}, deltas  # EmptyRoute
        deltas.setdefault(terms.input_mint, 0)
        deltas.setdefault(terms.output_mint, 0)
        moved = chain.settle_swap(terms, now_s, config, store.displaced(now_s))
        if moved is None:
            return {"InstructionError": [i, {"Custom": 6000}]}, deltas  # EmptyRoute
        in_atoms, out_atoms = moved
        if chain.slippage_exceeded(terms, in_atoms, out_atoms):
            return {"InstructionError": [i, {"Custom": chain.SLIPPAGE_EXCEEDED}]}, deltas
        if chain.FUNDING_ATOMS + store.balances(owner).get(terms.input_mint, 0) < in_atoms:
            return {"InstructionError": [i, {"Custom": 1}]}, deltas  # token program: insufficient funds
        deltas[terms.input_mint] = deltas.get(terms.input_mint, 0) - in_atoms
        deltas[terms.output_mint] = deltas.get(terms.output_mint, 0) + out_atoms
    return None, deltas


def send_transaction(params: list[Any], now_s: float, config: SimConfig, store: ChainStore) -> str:
    """sendTransaction [base64 tx, {encoding, skipPreflight}]: the signature; lands at once when it can."""
    opts = _options(params, 1)
    if not params or not isinstance(params[0], str):
        raise RpcError(INVALID_PARAMS, "Invalid params: missing the transaction")
    if opts.get("encoding", "base58") != "base64":
        raise RpcError(INVALID_PARAMS, "Invalid params: this node accepts encoding base64 only")
    try:
        tx = VersionedTransaction.from_bytes(base64.b64decode(params[0], validate=True))
    except (ValueError, binascii.Error) as exc:
        raise RpcError(INVALID_PARAMS, "failed to deserialize solana_transaction::versioned::VersionedTransaction: "
                       f"{exc}") from None
    if not tx.signatures or not all(tx.verify_with_results()):
        raise RpcError(SIGNATURE_FAILURE, "Transaction signature verification failure")
    signature, owner = str(tx.signatures[0]), str(tx.message.account_keys[0])
    preflight = not opts.get("skipPreflight", False)
    if store.landed(signature) is not None:
        if preflight:
            raise _preflight("This transaction has already been processed", "AlreadyProcessed")
        return signature
    if chain.blockhash_height(tx.message.recent_blockhash, now_s, config) is None:
        if preflight:
            raise _preflight("Blockhash not found", "BlockhashNotFound")
        return signature  # forwarded, never lands
    err, deltas = _execute(tx, owner, now_s, config, store)
    if err is not None and preflight:
        code = err["InstructionError"][1]["Custom"]
        raise _preflight(f"Error processing Instruction {err['InstructionError'][0]}: custom program error: "
                         f"{code:#x}", err)
    if err is not None:
        deltas = {key: delta if key == LAMPORTS else 0 for key, delta in deltas.items()}
    store.land(signature, owner, chain.slot_at(now_s), params[0], err, deltas)
    return signature


def _status(record: dict[str, Any] | None, now_s: float) -> dict[str, Any] | None:
    if record is None:
        return None
    age = chain.slot_at(now_s) - record["slot"]
    finalized = age >= chain.FINALIZED_AFTER
    err = record["err"]
    return {"slot": record["slot"], "confirmations": None if finalized else age, "err": err,
            "status": {"Ok": None} if err is None else {"Err": err},
            "confirmationStatus": "finalized" if finalized else "confirmed"}


def get_signature_statuses(params: list[Any], now_s: float, config: SimConfig, store: ChainStore) -> dict:
    """getSignatureStatuses [[signatures]]: null for a signature the chain has not seen land."""
    if not params or not isinstance(params[0], list) or not all(isinstance(s, str) for s in params[0]):
        raise RpcError(INVALID_PARAMS, "Invalid params: expected a list of signatures")
    if len(params[0]) > 256:
        raise RpcError(INVALID_PARAMS, "Too many inputs provided; max 256")
    return {"context": _context(now_s), "value": [_status(store.landed(sig), now_s) for sig in params[0]]}


def _ui(atoms: int, decimals: int) -> dict[str, Any]:
    text = format(Decimal(atoms).scaleb(-decimals).normalize(), "f")
    return {"amount": str(atoms), "decimals": decimals, "uiAmount": float(text), "uiAmountString": text}


def _decimals(mint: str) -> int:
    try:
        return token_by_mint(mint).decimals
    except (KeyError, ValueError):
        return 0


def _token_balances(keys: list[Pubkey], owner: str, deltas: dict[str, int]) -> list[dict[str, Any]]:
    """jsonParsed token balances of the owner's token accounts among the keys, from atoms changed since funding."""
    out = []
    for mint, delta in sorted(deltas.items()):
        if mint == LAMPORTS:
            continue
        ata = chain.token_account(Pubkey.from_string(owner), mint)
        if ata in keys:
            out.append({"accountIndex": keys.index(ata), "mint": mint, "owner": owner,
                        "programId": str(chain.TOKEN_PROGRAM), "uiTokenAmount": _ui(chain.FUNDING_ATOMS + delta,
                                                                                     _decimals(mint))})
    return out


def get_transaction(params: list[Any], now_s: float, config: SimConfig, store: ChainStore) -> dict | None:
    """getTransaction [signature, {encoding: jsonParsed, maxSupportedTransactionVersion: 0}]: null if not landed."""
    opts = _options(params, 1)
    if not params or not isinstance(params[0], str):
        raise RpcError(INVALID_PARAMS, "Invalid params: missing the signature")
    record = store.landed(params[0])
    if record is None:
        return None
    if opts.get("maxSupportedTransactionVersion") is None:
        raise RpcError(VERSION_UNSUPPORTED, "Transaction version (0) is not supported by the requesting client. "
                       "Please try the request again with the following configuration parameter: "
                       "\"maxSupportedTransactionVersion\": 0")
    tx = VersionedTransaction.from_bytes(base64.b64decode(record["tx"]))
    msg, owner = tx.message, record["owner"]
    keys = list(msg.account_keys)
    pre, post = record["pre"], record["post"]
    lamports = [chain.FUNDING_ATOMS + (pre if i == 0 else {}).get(LAMPORTS, 0) for i in range(len(keys))]
    after = [chain.FUNDING_ATOMS + (post if i == 0 else {}).get(LAMPORTS, 0) for i in range(len(keys))]
    err = record["err"]
    return {
        "slot": record["slot"], "blockTime": chain.time_of_slot(record["slot"]), "version": 0,
        "meta": {"err": err, "status": {"Ok": None} if err is None else {"Err": err},
                 "fee": chain.FUNDING_ATOMS + pre.get(LAMPORTS, 0) - chain.FUNDING_ATOMS - post.get(LAMPORTS, 0),
                 "preBalances": lamports, "postBalances": after, "innerInstructions": [],
                 "logMessages": [f"Program {chain.JUPITER_PROGRAM} invoke [1]",
                                 f"Program {chain.JUPITER_PROGRAM} {'success' if err is None else 'failed'}"],
                 "preTokenBalances": _token_balances(keys, owner, pre),
                 "postTokenBalances": _token_balances(keys, owner, post),
                 "rewards": [], "loadedAddresses": {"readonly": [], "writable": []}, "computeUnitsConsumed": 60_000},
        "transaction": {"signatures": [str(s) for s in tx.signatures], "message": {
            "accountKeys": [{"pubkey": str(k), "signer": msg.is_signer(i), "source": "transaction",
                             "writable": msg.is_maybe_writable(i)} for i, k in enumerate(keys)],
            "instructions": [{"programId": str(keys[ix.program_id_index]),
                              "accounts": [str(keys[a]) for a in bytes(ix.accounts)],
                              "data": b58encode(bytes(ix.data)), "stackHeight": None} for ix in msg.instructions],
            "recentBlockhash": str(msg.recent_blockhash), "addressTableLookups": []}},
    }


def get_latest_blockhash(params: list[Any], now_s: float, config: SimConfig, store: ChainStore) -> dict:
    """getLatestBlockhash: the current block's hash and the last height it is valid at."""
    height = chain.height_at(now_s)
    return {"context": _context(now_s), "value": {"blockhash": str(chain.blockhash_at(height, config)),
                                                  "lastValidBlockHeight": height + chain.MAX_PROCESSING_AGE}}


def get_block_height(params: list[Any], now_s: float, config: SimConfig, store: ChainStore) -> int:
    """getBlockHeight: the current block height."""
    return chain.height_at(now_s)


def get_balance(params: list[Any], now_s: float, config: SimConfig, store: ChainStore) -> dict:
    """getBalance [pubkey]: lamports."""
    owner = str(_pubkey(params[0] if params else None))
    return {"context": _context(now_s), "value": chain.FUNDING_ATOMS + store.balances(owner).get(LAMPORTS, 0)}


def get_token_accounts_by_owner(params: list[Any], now_s: float, config: SimConfig, store: ChainStore) -> dict:
    """getTokenAccountsByOwner [owner, {mint} | {programId}, {encoding: jsonParsed}]: the owner's token accounts."""
    owner = _pubkey(params[0] if params else None)
    which = _options(params, 1)
    if not ({"mint"} == set(which) or {"programId"} == set(which)):
        raise RpcError(INVALID_PARAMS, "Invalid params: expected a mint or a programId filter")
    held = store.balances(str(owner))
    mints = sorted({t.mint for t in TOKENS} | {m for m in held if m != LAMPORTS})
    if "mint" in which:
        mints = [m for m in mints if m == which["mint"]]
    elif which["programId"] != str(chain.TOKEN_PROGRAM):
        mints = []
    value = [{"pubkey": str(chain.token_account(owner, m)), "account": {
        "data": {"parsed": {"info": {"isNative": False, "mint": m, "owner": str(owner), "state": "initialized",
                                     "tokenAmount": _ui(chain.FUNDING_ATOMS + held.get(m, 0), _decimals(m))},
                            "type": "account"}, "program": "spl-token", "space": 165},
        "executable": False, "lamports": 2_039_280, "owner": str(chain.TOKEN_PROGRAM), "rentEpoch": 2**64 - 1,
        "space": 165}} for m in mints]
    return {"context": _context(now_s), "value": value}


METHODS = {"sendTransaction": send_transaction, "getSignatureStatuses": get_signature_statuses,
           "getTransaction": get_transaction, "getLatestBlockhash": get_latest_blockhash,
           "getBlockHeight": get_block_height, "getBalance": get_balance,
           "getTokenAccountsByOwner": get_token_accounts_by_owner}
