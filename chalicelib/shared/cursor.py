"""Opaque pagination cursors: encrypted and authenticated (AES-GCM), so a client can hand one back
but can neither read what it holds (the last key a listing read, which may be an item the caller
may not see) nor forge or edit one."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from chalicelib.shared.encoding import b64url, from_b64url
from chalicelib.shared.problems import InvalidCursor

_NONCE_BYTES = 12
_PURPOSE = b"turnstile pagination cursor v2"  # bound to the ciphertext: no other token decrypts

Position = dict[str, Any]  # where the next page of a listing starts (inside a cursor)


def encode(position: dict[str, Any], secret: str) -> str:
    payload = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    nonce = os.urandom(_NONCE_BYTES)
    return b64url(nonce + _cipher(secret).encrypt(nonce, payload, _PURPOSE))


def decode(cursor: str, secret: str) -> dict[str, Any]:
    try:
        raw = from_b64url(cursor)
        nonce, sealed = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
        position = json.loads(_cipher(secret).decrypt(nonce, sealed, _PURPOSE))
    except (ValueError, TypeError, InvalidTag):
        raise InvalidCursor("The cursor is not one this API issued.") from None
    if not isinstance(position, dict):
        raise InvalidCursor("The cursor is not one this API issued.")
    return position


def _cipher(secret: str) -> AESGCM:
    """A 256-bit key for cursors alone, derived from the service's cursor secret."""
    return AESGCM(hashlib.sha256(_PURPOSE + b"\0" + secret.encode()).digest())
