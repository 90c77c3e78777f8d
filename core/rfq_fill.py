"""The Jupiter Z fill a maker's `/swap` carries: its terms and the order-engine `fill` instruction's data, as data.

Pure: stdlib only. In Jupiter Z (jup-ag/rfq-webhook-toolkit) the swap request's `transaction` is a base64
VersionedTransaction whose fee payer is the maker and whose other required signer is the taker, who has signed it
already; it holds compute-budget instructions and one order-engine `fill` (accounts: taker, maker, the four token
accounts, input mint and its token program, output mint and its token program, system program; args borsh
`input_amount: u64, output_amount: u64, expire_at: i64`). The maker checks it, signs and sends it. The desk builds
and signs it as the taker (venues/rfq_fill_tx.py); the simulated makers decode and check it (sim/rfq_fill_check.py).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

ORDER_ENGINE_PROGRAM_ID = "61DFfeTKM7trxYcPQCM78bJ794ddZprZpAwAnLiwTpYH"  # mainnet, the toolkit's README
COMPUTE_BUDGET_PROGRAM_ID = "ComputeBudget111111111111111111111111111111"
TOKEN_PROGRAM_ID = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
ASSOCIATED_TOKEN_PROGRAM_ID = "ATokenGPvbdGVxr1b2hvZbsiqW3xhMBUTW6UvpYr5W3"
SYSTEM_PROGRAM_ID = "11111111111111111111111111111111"
FILL_DISCRIMINATOR = bytes([168, 96, 183, 163, 92, 10, 40, 160])  # anchor: sha256("global:fill")[:8]
FILL_ARGS = struct.Struct("<QQq")  # input_amount u64, output_amount u64, expire_at i64 (little endian, borsh)
EXPIRY_S = 55  # Jupiter Z sets a fill's expiry 55 s after it is built
COMPUTE_UNIT_LIMIT = 60_000  # an RFQ fill needs far fewer compute units than an AMM swap
TAKER, MAKER, INPUT_MINT, OUTPUT_MINT = 0, 1, 6, 8  # positions in the fill instruction's accounts


@dataclass(frozen=True, slots=True)
class FillTerms:
    """What one maker fill moves: taker and maker (base58 pubkeys), mints, atoms each way and expiry (Unix s)."""

    taker: str
    maker: str
    input_mint: str
    output_mint: str
    in_amount_atoms: int
    out_amount_atoms: int
    expire_at_s: int


def fill_data(terms: FillTerms) -> bytes:
    """The `fill` instruction's data: discriminator then the borsh args; ValueError outside u64/i64."""
    if not (0 < terms.in_amount_atoms < 2**64 and 0 < terms.out_amount_atoms < 2**64):
        raise ValueError("fill amounts must be positive u64 atoms")
    return FILL_DISCRIMINATOR + FILL_ARGS.pack(terms.in_amount_atoms, terms.out_amount_atoms, terms.expire_at_s)


def parse_fill_data(data: bytes) -> tuple[int, int, int] | None:
    """(input atoms, output atoms, expire_at s) of a `fill` instruction's data, or None when it is not one."""
    if len(data) != len(FILL_DISCRIMINATOR) + FILL_ARGS.size or not data.startswith(FILL_DISCRIMINATOR):
        return None
    in_atoms, out_atoms, expire_at_s = FILL_ARGS.unpack(data[len(FILL_DISCRIMINATOR):])
    return in_atoms, out_atoms, expire_at_s
