"""The desk's side of a Jupiter Z fill: the transaction a maker's `/swap` carries, built for the quoted amounts and
signed by the desk wallet as the taker (the maker, its fee payer, signs and sends it after its last look).

Format and terms: core/rfq_fill.py. Token accounts are the owners' associated token accounts.
"""
from __future__ import annotations

from solders.compute_budget import set_compute_unit_limit, set_compute_unit_price
from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.message import MessageV0
from solders.pubkey import Pubkey

from core import rfq_fill
from core.rfq_fill import FillTerms

ORDER_ENGINE = Pubkey.from_string(rfq_fill.ORDER_ENGINE_PROGRAM_ID)
TOKEN = Pubkey.from_string(rfq_fill.TOKEN_PROGRAM_ID)
ASSOCIATED_TOKEN = Pubkey.from_string(rfq_fill.ASSOCIATED_TOKEN_PROGRAM_ID)
SYSTEM = Pubkey.from_string(rfq_fill.SYSTEM_PROGRAM_ID)


def token_account(owner: Pubkey, mint: Pubkey) -> Pubkey:
    """The owner's associated token account of a mint."""
    return Pubkey.find_program_address([bytes(owner), bytes(TOKEN), bytes(mint)], ASSOCIATED_TOKEN)[0]


def fill_message(terms: FillTerms, blockhash: str) -> MessageV0:
    """The fill's message: fee payer the maker, signers maker then taker; compute budget, then the `fill`.

    ValueError when a key is not a base58 public key or an amount is not a positive u64."""
    taker, maker = Pubkey.from_string(terms.taker), Pubkey.from_string(terms.maker)
    in_mint, out_mint = Pubkey.from_string(terms.input_mint), Pubkey.from_string(terms.output_mint)
    accounts = [AccountMeta(taker, True, True), AccountMeta(maker, True, True),
                AccountMeta(token_account(taker, in_mint), False, True),
                AccountMeta(token_account(maker, in_mint), False, True),
                AccountMeta(token_account(taker, out_mint), False, True),
                AccountMeta(token_account(maker, out_mint), False, True),
                AccountMeta(in_mint, False, False), AccountMeta(TOKEN, False, False),
                AccountMeta(out_mint, False, False), AccountMeta(TOKEN, False, False),
                AccountMeta(SYSTEM, False, False)]
    instructions = [set_compute_unit_limit(rfq_fill.COMPUTE_UNIT_LIMIT), set_compute_unit_price(0),
                    Instruction(ORDER_ENGINE, rfq_fill.fill_data(terms), accounts)]
    return MessageV0.try_compile(maker, instructions, [], Hash.from_string(blockhash))
