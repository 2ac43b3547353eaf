"""Webhook signing secrets at rest: envelope encryption (AES-256-GCM under a data key).

On AWS the data key comes from KMS (`GenerateDataKey` under the stage's key; `Decrypt` to read
it back, cached per process), so the table holds only ciphertext and a KMS-wrapped key. Locally
the key is a 32-byte key from configuration (`TURNSTILE_WEBHOOK_SECRETS_KEY=local:<base64>`,
made by the local stack). Either way the webhook id is bound in (KMS encryption context and
GCM associated data): a sealed secret copied to another subscription does not open.

Sealed values read `kms:v1:<wrapped key>:<nonce>:<ciphertext>` or `local:v1:<nonce>:<ciphertext>`
(base64url). A value without a prefix is an unsealed secret written before sealing existed; it
opens as itself, and is sealed the next time the subscription's secret is written.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import lru_cache
from typing import Any, Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from chalicelib.shared.encoding import b64url, from_b64url

LOCAL_PREFIX = "local:"


class Sealer(Protocol):
    def seal(self, secret: str, webhook_id: str) -> str: ...

    def open(self, sealed: str, webhook_id: str) -> str: ...


def _encrypt(key: bytes, secret: str, webhook_id: str) -> tuple[bytes, bytes]:
    nonce = os.urandom(12)
    return nonce, AESGCM(key).encrypt(nonce, secret.encode(), webhook_id.encode())


def _decrypt(key: bytes, nonce: bytes, ciphertext: bytes, webhook_id: str) -> str:
    return AESGCM(key).decrypt(nonce, ciphertext, webhook_id.encode()).decode()


class LocalKeySealer:
    """AES-256-GCM under one key from configuration (the local stack, tests)."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the local webhook secrets key must be 32 bytes")
        self._key = key

    def seal(self, secret: str, webhook_id: str) -> str:
        nonce, ciphertext = _encrypt(self._key, secret, webhook_id)
        return f"local:v1:{b64url(nonce)}:{b64url(ciphertext)}"

    def open(self, sealed: str, webhook_id: str) -> str:
        if not sealed.startswith("local:v1:"):
            return sealed  # written before sealing existed
        _, _, nonce, ciphertext = sealed.split(":")
        return _decrypt(self._key, from_b64url(nonce), from_b64url(ciphertext), webhook_id)


class KmsEnvelopeSealer:
    """A fresh data key per seal from KMS; unwrapped data keys are cached (bounded) per process,
    so reading a subscription costs a KMS call only the first time."""

    def __init__(self, kms: Any, key_id: str) -> None:
        self._kms, self._key_id = kms, key_id
        self._unwrap = lru_cache(maxsize=256)(self._decrypt_data_key)

    def seal(self, secret: str, webhook_id: str) -> str:
        data_key = self._kms.generate_data_key(
            KeyId=self._key_id, KeySpec="AES_256", EncryptionContext={"webhookId": webhook_id}
        )
        nonce, ciphertext = _encrypt(data_key["Plaintext"], secret, webhook_id)
        return f"kms:v1:{b64url(data_key['CiphertextBlob'])}:{b64url(nonce)}:{b64url(ciphertext)}"

    def open(self, sealed: str, webhook_id: str) -> str:
        if not sealed.startswith("kms:v1:"):
            return sealed  # written before sealing existed
        _, _, wrapped, nonce, ciphertext = sealed.split(":")
        key = self._unwrap(wrapped, webhook_id)
        return _decrypt(key, from_b64url(nonce), from_b64url(ciphertext), webhook_id)

    def _decrypt_data_key(self, wrapped: str, webhook_id: str) -> bytes:
        found = self._kms.decrypt(
            CiphertextBlob=from_b64url(wrapped), EncryptionContext={"webhookId": webhook_id}
        )
        key: bytes = found["Plaintext"]
        return key


class Unsealed:
    """No encryption (in-memory fakes: nothing is at rest)."""

    def seal(self, secret: str, webhook_id: str) -> str:
        return secret

    def open(self, sealed: str, webhook_id: str) -> str:
        return sealed


def sealer_for(setting: str, kms: Callable[[], Any]) -> Sealer:
    """`local:<base64 32-byte key>` -> LocalKeySealer; a KMS key id, ARN or alias -> KMS; empty ->
    Unsealed (only for stacks with nothing at rest worth protecting; deployed stages set a key)."""
    if not setting:
        return Unsealed()
    if setting.startswith(LOCAL_PREFIX):
        return LocalKeySealer(from_b64url(setting[len(LOCAL_PREFIX) :]))
    return KmsEnvelopeSealer(kms(), setting)
