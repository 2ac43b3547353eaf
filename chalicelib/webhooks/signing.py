"""Standard Webhooks signatures (https://www.standardwebhooks.com/): sign and verify.

Pure and standard-library only, so a receiver can copy this file as its verification helper.

    webhook-id:        the notification id, stable across retries (drop duplicates by it)
    webhook-timestamp: integer Unix seconds of this attempt
    webhook-signature: "v1,<base64(HMAC-SHA256(secret_bytes, f'{id}.{timestamp}.{body}'))>",
                       several separated by spaces while a rotated secret is still honoured

The secret is `whsec_` + base64; the HMAC key is the base64-decoded part after the prefix.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
DEFAULT_TOLERANCE_SECONDS = 5 * 60


class InvalidSignature(ValueError):
    """The request was not signed with any of the secrets, or its timestamp is out of tolerance."""


def secret_from_bytes(raw: bytes) -> str:
    """A `whsec_` secret for random key bytes (the caller supplies the randomness)."""
    return SECRET_PREFIX + base64.b64encode(raw).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_...` secret (a bare base64 secret is accepted too)."""
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except ValueError:
        raise ValueError("a webhook secret is 'whsec_' followed by base64") from None


def sign(secret: str, message_id: str, timestamp: int, body: str | bytes) -> str:
    """One `v1,<base64>` signature of `{id}.{timestamp}.{body}`."""
    payload = body.encode() if isinstance(body, str) else body
    signed = f"{message_id}.{timestamp}.".encode() + payload
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets: Iterable[str], message_id: str, timestamp: int, body: str | bytes) -> str:
    """The `webhook-signature` value: one signature per active secret, space-separated."""
    return " ".join(sign(secret, message_id, timestamp, body) for secret in secrets)


def headers(secrets: Iterable[str], message_id: str, timestamp: int, body: str | bytes) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets, message_id, timestamp, body),
    }


def verify(
    secret: str,
    request_headers: Mapping[str, str],
    body: str | bytes,
    now: int,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> None:
    """Raise InvalidSignature unless one `v1` signature matches and the timestamp is within
    `tolerance` seconds of `now` (either way: replays and clock-skewed forgeries are refused).

    `request_headers` is looked up case-insensitively. Compare in constant time."""
    lowered = {k.lower(): v for k, v in request_headers.items()}
    message_id = lowered.get("webhook-id")
    raw_timestamp = lowered.get("webhook-timestamp")
    signatures = lowered.get("webhook-signature")
    if not message_id or not raw_timestamp or not signatures:
        raise InvalidSignature("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        timestamp = int(raw_timestamp)
    except ValueError:
        raise InvalidSignature("webhook-timestamp is not an integer") from None
    if abs(now - timestamp) > tolerance:
        raise InvalidSignature("webhook-timestamp is outside the tolerance")
    expected = sign(secret, message_id, timestamp, body).split(",", 1)[1]
    for candidate in signatures.split(" "):
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return
    raise InvalidSignature("no signature matches")
