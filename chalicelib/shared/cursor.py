"""Opaque, signed pagination cursors: a client can hand one back but not forge or edit one."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from chalicelib.shared.encoding import b64url, from_b64url
from chalicelib.shared.problems import InvalidCursor

_SIGNATURE_BYTES = 16

Position = dict[str, Any]  # where the next page of a listing starts (inside a cursor)


def encode(position: dict[str, Any], secret: str) -> str:
    payload = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    signature = _sign(payload, secret)
    return b64url(signature + payload)


def decode(cursor: str, secret: str) -> dict[str, Any]:
    try:
        raw = from_b64url(cursor)
    except (ValueError, TypeError):
        raise InvalidCursor("The cursor is not one this API issued.") from None
    signature, payload = raw[:_SIGNATURE_BYTES], raw[_SIGNATURE_BYTES:]
    if not hmac.compare_digest(signature, _sign(payload, secret)):
        raise InvalidCursor("The cursor is not one this API issued.")
    position = json.loads(payload)
    if not isinstance(position, dict):
        raise InvalidCursor("The cursor is not one this API issued.")
    return position


def _sign(payload: bytes, secret: str) -> bytes:
    return hmac.new(secret.encode(), payload, hashlib.sha256).digest()[:_SIGNATURE_BYTES]
