"""The simulated Solana JSON-RPC 2.0 node: verifies signatures, refuses expired blockhashes, lands swaps on a store
(sendTransaction in sim/rpc_send.py, the shared parts in sim/rpc_base.py); this module dispatches and answers reads.

Pure but for the store it is handed (the ledger's table, shared by every worker). Time is passed in. Amounts are
integer atoms (lamports for SOL's native balance); errors are the JSON-RPC error objects a real node sends.
"""
from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from core.tokens import TOKENS, token_by_mint
from sim import chain
from sim.price import SimConfig
from sim.rpc_base import (
    INVALID_PARAMS,
    INVALID_REQUEST,
    LAMPORTS,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    VERSION_UNSUPPORTED,
    ChainStore,
    RpcError,
    b58encode,
    context,
    options,
    pubkey,
)
from sim.rpc_send import send_transaction

__all__ = ["LAMPORTS", "ChainStore", "RpcError", "b58encode", "handle", "parse_error"]


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
    return {"context": context(now_s), "value": [_status(store.landed(sig), now_s) for sig in params[0]]}


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
    opts = options(params, 1)
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
    return {"context": context(now_s), "value": {"blockhash": str(chain.blockhash_at(height, config)),
                                                  "lastValidBlockHeight": height + chain.MAX_PROCESSING_AGE}}


def get_block_height(params: list[Any], now_s: float, config: SimConfig, store: ChainStore) -> int:
    """getBlockHeight: the current block height."""
    return chain.height_at(now_s)


def get_balance(params: list[Any], now_s: float, config: SimConfig, store: ChainStore) -> dict:
    """getBalance [pubkey]: lamports."""
    owner = str(pubkey(params[0] if params else None))
    return {"context": context(now_s), "value": chain.FUNDING_ATOMS + store.balances(owner).get(LAMPORTS, 0)}


def get_token_accounts_by_owner(params: list[Any], now_s: float, config: SimConfig, store: ChainStore) -> dict:
    """getTokenAccountsByOwner [owner, {mint} | {programId}, {encoding: jsonParsed}]: the owner's token accounts."""
    owner = pubkey(params[0] if params else None)
    which = options(params, 1)
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
    return {"context": context(now_s), "value": value}


METHODS = {"sendTransaction": send_transaction, "getSignatureStatuses": get_signature_statuses,
           "getTransaction": get_transaction, "getLatestBlockhash": get_latest_blockhash,
           "getBlockHeight": get_block_height, "getBalance": get_balance,
           "getTokenAccountsByOwner": get_token_accounts_by_owner}
