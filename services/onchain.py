"""The Jupiter leg on chain: swap -> sign -> send -> confirm -> read what moved; and asking the chain after a loss.

A transaction that was sent but not seen confirmed is never reported failed: Unconfirmed carries its signature, and
check() later tells landed (with the amounts) from definitely not landed (its blockhash expired with no status).
Amounts are integer atoms, read from the wallet's token balances (post − pre); times in seconds.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from core.tokens import token_by_mint
from venues.jupiter_swap import SwapClient
from venues.jupiter_wire import JupiterQuote
from venues.solana_rpc import RpcUnavailableError, SolanaRpc, SolanaRpcError, wallet_deltas
from venues.wallet import Wallet


@dataclass(frozen=True, eq=False)
class OnChain:
    """The desk's chain access: Jupiter's swap endpoint, a Solana RPC node, the wallet and the confirmation policy."""

    swaps: SwapClient
    rpc: SolanaRpc
    wallet: Wallet
    poll_interval_s: float = 0.4  # between getSignatureStatuses polls
    confirm_timeout_s: float = 90.0  # give up watching (the trade is left `unknown`) after this long
    skip_preflight: bool = False
    sleep: Callable[[float], None] = field(default=time.sleep)
    clock: Callable[[], float] = field(default=time.monotonic)


@dataclass(frozen=True, slots=True)
class Landed:
    """A landed swap: signature, slot, and the atoms that left (in) and reached (out) the wallet; err if it failed."""

    signature: str
    slot: int
    in_amount_atoms: int
    out_amount_atoms: int
    err: Any = None


class NotLanded(Exception):
    """The transaction can never land (the node refused it, or its blockhash expired with no status): safe to fail."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Unconfirmed(Exception):
    """Sent (or maybe sent) but not seen confirmed: the trade is `unknown` until check() decides."""

    def __init__(self, signature: str, message: str) -> None:
        super().__init__(message)
        self.signature = signature


def execute_swap(chain: OnChain, quote: JupiterQuote, on_signed: Callable[[str, int], None]) -> Landed:
    """Swap, sign and send the quote's transaction and wait for it; on_signed(signature, lastValidBlockHeight) is
    called (to persist them) before anything is sent. Raises JupiterError, NotLanded or Unconfirmed."""
    swap = chain.swaps.swap(quote.raw, chain.wallet.pubkey)
    signed, signature = chain.wallet.sign(swap.transaction_base64)
    on_signed(signature, swap.last_valid_block_height)
    try:
        chain.rpc.send_transaction(signed, chain.skip_preflight)
    except RpcUnavailableError as exc:
        raise Unconfirmed(signature, f"the node did not answer sendTransaction ({exc})") from None
    except SolanaRpcError as exc:
        if exc.refused:
            raise NotLanded("TX_REFUSED", f"the Solana node refused the transaction: {exc.message}") from None
        raise Unconfirmed(signature, f"sendTransaction failed ambiguously: {exc.message}") from None
    return confirm(chain, quote, signature, swap.last_valid_block_height)


def confirm(chain: OnChain, quote: JupiterQuote, signature: str, last_valid_block_height: int) -> Landed:
    """Poll until the signature is confirmed (the landed amounts) or its blockhash expired (NotLanded); Unconfirmed
    when the node stops answering or the watch times out."""
    deadline = chain.clock() + chain.confirm_timeout_s
    while True:
        try:
            found = check(chain, quote.input_mint, quote.output_mint, signature, last_valid_block_height)
        except SolanaRpcError as exc:
            raise Unconfirmed(signature, f"the node could not confirm the transaction: {exc.message}") from None
        if found is not None:
            return found
        if chain.clock() >= deadline:
            raise Unconfirmed(signature, f"not confirmed within {chain.confirm_timeout_s:g} s")
        chain.sleep(chain.poll_interval_s)


def check(chain: OnChain, input_mint: str, output_mint: str, signature: str,
          last_valid_block_height: int | None) -> Landed | None:
    """Ask the chain once: Landed, None while it may still land, NotLanded once its blockhash has expired with no
    status. Raises SolanaRpcError when the node cannot say."""
    status = chain.rpc.signature_statuses([signature])[0]
    if status is not None and status.get("confirmationStatus") in ("confirmed", "finalized"):
        tx = chain.rpc.transaction(signature)
        if tx is None:
            return None
        err = (tx.get("meta") or {}).get("err")
        moved = wallet_deltas(tx, chain.wallet.pubkey)
        return Landed(signature, int(tx["slot"]), -moved.get(input_mint, 0) if err is None else 0,
                      moved.get(output_mint, 0) if err is None else 0, err)
    expired = status is None and last_valid_block_height is not None \
        and chain.rpc.block_height() > last_valid_block_height
    if expired and chain.rpc.signature_statuses([signature])[0] is None:  # asked again after the expiry: lost
            raise NotLanded("TX_EXPIRED", f"the transaction's blockhash expired (block height past "
                            f"{last_valid_block_height}) and the chain has no status for it; it never landed")
    return None


def wallet_status(chain: OnChain | None) -> dict[str, Any]:
    """The desk wallet for monitoring: public key, native SOL (lamports) and token balances (atoms, and whole
    tokens as exact decimal text for known mints), or the RPC error; never the key itself."""
    if chain is None:
        return {"pubkey": None, "error": "on-chain execution is off (an injected Jupiter client)"}
    status: dict[str, Any] = {"pubkey": chain.wallet.pubkey, "error": None, "sol_lamports": None, "tokens": []}
    try:
        status["sol_lamports"] = chain.rpc.balance_lamports(chain.wallet.pubkey)
        held = chain.rpc.token_balances(chain.wallet.pubkey)
    except SolanaRpcError as exc:
        status["error"] = f"the Solana node did not answer ({exc.message})"
        return status
    for mint, atoms in sorted(held.items()):
        try:
            token = token_by_mint(mint)
        except ValueError:
            status["tokens"].append({"mint": mint, "symbol": None, "atoms": atoms, "ui": None})
            continue
        ui = format(Decimal(atoms).scaleb(-token.decimals), "f")
        status["tokens"].append({"mint": mint, "symbol": token.symbol, "atoms": atoms, "ui": ui})
    status["sol_ui"] = format(Decimal(status["sol_lamports"]).scaleb(-9), "f")
    return status
