"""The simulated Solana chain's rules: slots and block heights from time, blockhashes, the swap instruction, settlement.

Pure: time (`now_s`, Unix seconds) and the seed (`SimConfig`) are passed in. Slots advance 2.5 per second from the
simulated DEX's anchor (its quotes' contextSlot); a blockhash is valid for 150 blocks as on Solana.
Amounts are integer atoms; the swap instruction carries the quote's mints, amounts, mode and slippage threshold.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

from core.units import SwapMode
from sim import dex
from sim.price import SimConfig

JUPITER_PROGRAM = Pubkey.from_string("JUP6LkbZbjS1jKKwapdHNy74zcZ3tLUZoi5QNyVTaV4")
TOKEN_PROGRAM = Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
ATA_PROGRAM = Pubkey.from_string("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL")
SLOTS_PER_2S = 5  # 2.5 slots per second, as the simulated DEX's contextSlot
SKIPPED_SLOTS = 20_000_000  # block height = slot − this (Solana's height lags its slot by the skipped slots)
MAX_PROCESSING_AGE = 150  # blocks a blockhash stays valid (Solana's MAX_PROCESSING_AGE)
FINALIZED_AFTER = 32  # slots after which a landed transaction is finalized
FEE_LAMPORTS = 5_000  # the base fee of one signature
FUNDING_ATOMS = 10**18  # every wallet starts with this many atoms of every mint and lamports (fits i64)
SLIPPAGE_EXCEEDED = 6001  # Jupiter program's SlippageToleranceExceeded (0x1771)
_DATA_TAG = b"olr-sim-swap:v1:"


def slot_at(now_s: float) -> int:
    """The slot at Unix second now_s (2.5 slots per second, rounded down)."""
    return max(0, dex.ANCHOR_SLOT + int((now_s - dex.ANCHOR_UNIX) * SLOTS_PER_2S // 2))


def height_at(now_s: float) -> int:
    """The block height at Unix second now_s."""
    return slot_at(now_s) - SKIPPED_SLOTS


def slot_of_height(height: int) -> int:
    """The slot of the block at a height."""
    return height + SKIPPED_SLOTS


def time_of_slot(slot: int) -> int:
    """The Unix second (rounded down) at which a slot began: blockTime."""
    return dex.ANCHOR_UNIX + (slot - dex.ANCHOR_SLOT) * 2 // SLOTS_PER_2S


def blockhash_at(height: int, config: SimConfig) -> Hash:
    """The blockhash of the block at a height: a hash of (seed, height), the same in every worker."""
    return Hash(hashlib.sha256(f"olr-sim-blockhash:{config.seed}:{height}".encode()).digest())


def blockhash_height(blockhash: Hash, now_s: float, config: SimConfig) -> int | None:
    """The height of a blockhash still valid at now_s (within the last 150 blocks), or None (not found / expired)."""
    current = height_at(now_s)
    for height in range(current, current - MAX_PROCESSING_AGE - 1, -1):
        if blockhash_at(height, config) == blockhash:
            return height
    return None


def token_account(owner: Pubkey, mint: str) -> Pubkey:
    """The owner's associated token account of a mint."""
    return Pubkey.find_program_address([bytes(owner), bytes(TOKEN_PROGRAM), bytes(Pubkey.from_string(mint))],
                                       ATA_PROGRAM)[0]


@dataclass(frozen=True, slots=True)
class SwapTerms:
    """What a swap transaction commits to: mints, mode, the fixed amount and the threshold (min out / max in), atoms."""

    input_mint: str
    output_mint: str
    swap_mode: SwapMode
    amount_atoms: int  # in for ExactIn, out for ExactOut
    threshold_atoms: int  # min out for ExactIn, max in for ExactOut
    slippage_bps: int
    built_at_us: int = 0  # when POST /swap built it (µs): two identical swaps are two transactions, as on Solana

    def to_data(self) -> bytes:
        """The instruction data: a tag and canonical JSON (amounts as strings)."""
        body = {"inputMint": self.input_mint, "outputMint": self.output_mint, "swapMode": str(self.swap_mode),
                "amount": str(self.amount_atoms), "otherAmountThreshold": str(self.threshold_atoms),
                "slippageBps": self.slippage_bps, "builtAtUs": self.built_at_us}
        return _DATA_TAG + json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_data(cls, data: bytes) -> SwapTerms | None:
        """The terms an instruction's data carries, or None when it is not a simulated swap's."""
        if not data.startswith(_DATA_TAG):
            return None
        try:
            body = json.loads(data[len(_DATA_TAG):])
            return cls(body["inputMint"], body["outputMint"], SwapMode(body["swapMode"]), int(body["amount"]),
                       int(body["otherAmountThreshold"]), int(body["slippageBps"]), int(body.get("builtAtUs", 0)))
        except (ValueError, KeyError, TypeError):
            return None

    def instruction(self, user: Pubkey) -> Instruction:
        """The Jupiter-program instruction: the user (signer), its token accounts of both mints, the token program."""
        metas = [AccountMeta(user, True, True), AccountMeta(token_account(user, self.input_mint), False, True),
                 AccountMeta(token_account(user, self.output_mint), False, True),
                 AccountMeta(Pubkey.from_string(self.input_mint), False, False),
                 AccountMeta(Pubkey.from_string(self.output_mint), False, False),
                 AccountMeta(TOKEN_PROGRAM, False, False)]
        return Instruction(JUPITER_PROGRAM, self.to_data(), metas)


def terms_of_quote(quote: dict[str, Any]) -> SwapTerms:
    """The terms of a Jupiter quoteResponse (ValueError/KeyError on a malformed one)."""
    mode = SwapMode(quote["swapMode"])
    fixed = quote["inAmount"] if mode == SwapMode.EXACT_IN else quote["outAmount"]
    return SwapTerms(str(quote["inputMint"]), str(quote["outputMint"]), mode, int(fixed),
                     int(quote["otherAmountThreshold"]), int(quote.get("slippageBps", 0)))


def settle_swap(terms: SwapTerms, now_s: float, config: SimConfig,
                displaced: Mapping[str, int] = dex.NO_DISPLACEMENT) -> tuple[int, int] | None:
    """The hook of settlement: (in, out) atoms a swap moves when it lands at now_s, from the simulated DEX with the
    pools displaced by our past swaps (base atoms per amm_key); None when the DEX has no route."""
    params = {"inputMint": terms.input_mint, "outputMint": terms.output_mint, "amount": str(terms.amount_atoms),
              "slippageBps": str(terms.slippage_bps), "swapMode": str(terms.swap_mode)}
    status, body = dex.quote_response(params, now_s, config, displaced)
    if status != 200:
        return None
    return int(body["inAmount"]), int(body["outAmount"])


def slippage_exceeded(terms: SwapTerms, in_atoms: int, out_atoms: int) -> bool:
    """True when what the swap would move breaks the transaction's own min out (ExactIn) or max in (ExactOut)."""
    if terms.swap_mode == SwapMode.EXACT_IN:
        return out_atoms < terms.threshold_atoms
    return in_atoms > terms.threshold_atoms
