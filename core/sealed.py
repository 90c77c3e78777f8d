"""Secrets at rest (a maker's API key): authenticated encryption from the standard library only.

Token `v1.<base64url(nonce ‖ ciphertext ‖ tag)>`: encrypt-then-MAC with two keys derived from the instance key by
HMAC-SHA256 (`enc`, `mac`); the keystream is HMAC-SHA256(enc, nonce ‖ block counter) (a PRF in counter mode), the
tag HMAC-SHA256(mac, "v1" ‖ nonce ‖ ciphertext), checked in constant time. The nonce (16 random bytes) is the
caller's, so this module stays pure. `cryptography` is not a dependency of the project; its Fernet would take the
same place behind seal()/unseal() (a `v2.` prefix) if it is added.
"""
from __future__ import annotations

import base64
import hashlib
import hmac

PREFIX = "v1."
NONCE_BYTES = 16
TAG_BYTES = 32
MIN_KEY_BYTES = 32


class SealError(ValueError):
    """A token that is not ours, was altered, or was sealed under another key (the message never holds a secret)."""


def _keys(key: bytes) -> tuple[bytes, bytes]:
    """The encryption and MAC keys derived from the instance key."""
    if len(key) < MIN_KEY_BYTES:
        raise SealError(f"the sealing key must have at least {MIN_KEY_BYTES} bytes")
    return (hmac.new(key, b"olr-sealed/enc", hashlib.sha256).digest(),
            hmac.new(key, b"olr-sealed/mac", hashlib.sha256).digest())


def _stream(enc_key: bytes, nonce: bytes, data: bytes) -> bytes:
    """data XOR the keystream of (key, nonce): encrypts and decrypts."""
    out = bytearray()
    for block in range(0, len(data), 32):
        pad = hmac.new(enc_key, nonce + (block // 32).to_bytes(8, "big"), hashlib.sha256).digest()
        out += bytes(a ^ b for a, b in zip(data[block:block + 32], pad, strict=False))
    return bytes(out)


def seal(key: bytes, nonce: bytes, plaintext: str) -> str:
    """The sealed token of a UTF-8 secret under `key`, with a fresh 16-byte `nonce` (never reuse one)."""
    if len(nonce) != NONCE_BYTES:
        raise SealError(f"the nonce must have {NONCE_BYTES} bytes")
    enc_key, mac_key = _keys(key)
    body = _stream(enc_key, nonce, plaintext.encode())
    tag = hmac.new(mac_key, b"v1" + nonce + body, hashlib.sha256).digest()
    return PREFIX + base64.urlsafe_b64encode(nonce + body + tag).decode()


def unseal(key: bytes, token: str) -> str:
    """The secret in a sealed token; SealError when it is not one, was altered or was sealed under another key."""
    if not is_sealed(token):
        raise SealError("not a sealed token")
    try:
        raw = base64.urlsafe_b64decode(token[len(PREFIX):].encode())
    except ValueError:
        raise SealError("not a sealed token") from None
    if len(raw) < NONCE_BYTES + TAG_BYTES:
        raise SealError("not a sealed token")
    nonce, body, tag = raw[:NONCE_BYTES], raw[NONCE_BYTES:-TAG_BYTES], raw[-TAG_BYTES:]
    enc_key, mac_key = _keys(key)
    if not hmac.compare_digest(tag, hmac.new(mac_key, b"v1" + nonce + body, hashlib.sha256).digest()):
        raise SealError("the sealed token was altered or sealed under another key")
    try:
        return _stream(enc_key, nonce, body).decode()
    except UnicodeDecodeError:
        raise SealError("the sealed token does not hold text") from None


def is_sealed(text: str | None) -> bool:
    """True for text in the sealed token format."""
    return bool(text) and str(text).startswith(PREFIX)


def sealed_length(plain_chars: int) -> int:
    """The longest token a secret of this many characters (UTF-8, up to 4 bytes each) seals to."""
    raw = NONCE_BYTES + 4 * plain_chars + TAG_BYTES
    return len(PREFIX) + 4 * -(-raw // 3)
