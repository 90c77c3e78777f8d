"""The desk wallet: a Solana CLI keypair file (JSON array of 64 bytes), loaded once, never logged or shown.

A file readable by group or others is refused. In sim mode a development keypair is generated under instance/
(mode 0600). The wallet signs only a transaction whose fee payer (and only required signer) is itself.
"""
from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

from solders.keypair import Keypair
from solders.message import MessageV0, to_bytes_versioned
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from core import rfq_fill


class WalletError(Exception):
    """The keypair file cannot be used, or a transaction is not ours to sign; the message never holds the key."""


class Wallet:
    """A keypair behind a narrow door: its public key, and signing of our own swap transactions."""

    __slots__ = ("_keypair",)

    def __init__(self, keypair: Keypair) -> None:
        self._keypair = keypair

    @property
    def pubkey(self) -> str:
        """The public key, base58."""
        return str(self._keypair.pubkey())

    def __repr__(self) -> str:
        return f"Wallet({self.pubkey})"

    def sign(self, tx_base64: str) -> tuple[str, str]:
        """(signed transaction base64, signature base58); WalletError unless we are the fee payer and sole signer."""
        try:
            tx = VersionedTransaction.from_bytes(base64.b64decode(tx_base64, validate=True))
        except ValueError as exc:
            raise WalletError(f"the swap transaction cannot be decoded ({type(exc).__name__})") from None
        msg = tx.message
        if msg.header.num_required_signatures != 1 or msg.account_keys[0] != self._keypair.pubkey():
            raise WalletError("the swap transaction's fee payer is not the desk wallet; not signing it")
        signed = VersionedTransaction(msg, [self._keypair])
        return base64.b64encode(bytes(signed)).decode(), str(signed.signatures[0])


    def sign_rfq_fill(self, message: MessageV0) -> str:
        """A Jupiter Z fill signed by the desk as its taker (base64 VersionedTransaction, the maker's signature left
        for the maker); WalletError unless the maker pays the fee, we are the second and last signer, and every
        instruction is the order engine's or a compute-budget one (a maker cannot make us sign anything else)."""
        keys = message.account_keys
        if message.header.num_required_signatures != 2 or len(keys) < 2 or keys[1] != self._keypair.pubkey() \
                or keys[0] == self._keypair.pubkey():
            raise WalletError("the fill's signers are not [maker, desk wallet]; not signing it")
        allowed = {rfq_fill.ORDER_ENGINE_PROGRAM_ID, rfq_fill.COMPUTE_BUDGET_PROGRAM_ID}
        if any(str(keys[ix.program_id_index]) not in allowed for ix in message.instructions):
            raise WalletError("the fill holds an instruction of another program; not signing it")
        signature = self._keypair.sign_message(to_bytes_versioned(message))
        return base64.b64encode(bytes(VersionedTransaction.populate(message, [Signature.default(), signature])
                                      )).decode()


def load(path: str | Path) -> Wallet:
    """The wallet of a Solana CLI keypair file; WalletError if missing, malformed, or readable by group/others."""
    p = Path(path)
    try:
        mode = p.stat().st_mode
    except OSError:
        raise WalletError(f"SOLANA_KEYPAIR_PATH {p} does not exist or cannot be read") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise WalletError(f"SOLANA_KEYPAIR_PATH {p} is accessible by group or others (mode {stat.S_IMODE(mode):o}); "
                          "chmod 600 it")
    try:
        raw = json.loads(p.read_text())
        if not (isinstance(raw, list) and len(raw) == 64 and all(isinstance(b, int) and 0 <= b < 256 for b in raw)):
            raise ValueError
        return Wallet(Keypair.from_bytes(bytes(raw)))
    except ValueError:
        raise WalletError(f"SOLANA_KEYPAIR_PATH {p} is not a Solana CLI keypair (a JSON array of 64 bytes)") from None


def dev_wallet(instance_path: str | Path) -> Wallet:
    """The development wallet under instance/ (sim-keypair.json, 0600), generated on first use."""
    p = Path(instance_path) / "sim-keypair.json"
    if not p.exists():
        try:
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return load(p)  # another worker wrote it first
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps(list(bytes(Keypair()))))
    return load(p)


def is_pubkey(text: str) -> bool:
    """True for a base58 public key."""
    try:
        Pubkey.from_string(text)
    except ValueError:
        return False
    return True
