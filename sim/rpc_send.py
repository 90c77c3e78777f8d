"""The simulated node's sendTransaction: verify the signatures and the blockhash, run the swap against the simulated
DEX with the pools as our past swaps displaced them, and land its balance changes on the store once."""
from __future__ import annotations

import base64
import binascii
from typing import Any

from solders.transaction import VersionedTransaction

from sim import chain
from sim.price import SimConfig
from sim.rpc_base import INVALID_PARAMS, LAMPORTS, PREFLIGHT_FAILURE, SIGNATURE_FAILURE, ChainStore, RpcError, options


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
    opts = options(params, 1)
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
