"""Secrets at rest (a maker's API key): Fernet tokens from `cryptography` under a key derived from the instance key.

Token `v2.<Fernet token>`: AES-128-CBC with HMAC-SHA256 (encrypt-then-MAC) and a random IV, per the Fernet spec; the
Fernet key is HKDF-SHA256 of the instance key (MAKER_KEY or instance/maker-key), so any ≥ 32-byte secret works.
"""
from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "v2."
MIN_KEY_BYTES = 32


class SealError(ValueError):
    """A token that is not ours, was altered, or was sealed under another key (the message never holds a secret)."""


@lru_cache(maxsize=8)
def _fernet(key: bytes) -> Fernet:
    """The Fernet of an instance key (HKDF-SHA256, 32 bytes: Fernet's signing and encryption halves)."""
    if len(key) < MIN_KEY_BYTES:
        raise SealError(f"the sealing key must have at least {MIN_KEY_BYTES} bytes")
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"olr-sealed/fernet").derive(key)
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(key: bytes, plaintext: str) -> str:
    """The sealed token of a UTF-8 secret under `key` (a fresh random IV each time, so never the same token twice)."""
    return PREFIX + _fernet(key).encrypt(plaintext.encode()).decode()


def unseal(key: bytes, token: str) -> str:
    """The secret in a sealed token; SealError when it is not one, was altered or was sealed under another key."""
    fernet = _fernet(key)
    if not is_sealed(token):
        raise SealError("not a sealed token")
    try:
        return fernet.decrypt(token[len(PREFIX):].encode()).decode()
    except InvalidToken:
        raise SealError("the sealed token was altered, is not one, or was sealed under another key") from None
    except UnicodeDecodeError:
        raise SealError("the sealed token does not hold text") from None


def is_sealed(text: str | None) -> bool:
    """True for text in the sealed token format."""
    return bool(text) and str(text).startswith(PREFIX)
