"""The local stack's token signer: an RSA key pair kept under `.cache/auth/` (made on first use),
its public half as a JWKS file the API verifies against, and tokens shaped like Cognito's.

On AWS the keys are Cognito's and the API reads its JWKS URL; the verification is the same.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from devstack.emulators import ROOT

ISSUER = "turnstile-local"
AUDIENCE = "turnstile-local"  # the app client id a token names (`client_id`, as Cognito's)
DEFAULT_EXPIRY_SECONDS = 3600


def key_dir() -> Path:
    return Path(os.environ.get("TURNSTILE_AUTH_DIR", ROOT / ".cache" / "auth"))


def ensure_keys(directory: Path | None = None) -> Path:
    """Make the key pair and its JWKS once (safe to race: files appear whole, the first key pair
    made wins). Returns the JWKS file."""
    directory = directory or key_dir()
    private, jwks = directory / "private.pem", directory / "jwks.json"
    if private.exists() and jwks.exists():
        return jwks
    directory.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _place(private, pem, only_if_missing=True)
    _place(jwks, json.dumps({"keys": [_public_jwk(_private_key(private))]}).encode(), only_if_missing=False)
    return jwks


def _place(path: Path, content: bytes, only_if_missing: bool) -> None:
    temporary = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
    temporary.write_bytes(content)
    temporary.chmod(0o600)
    if only_if_missing:
        with contextlib.suppress(FileExistsError):  # another process made it first: keep theirs
            os.link(temporary, path)
        temporary.unlink()
    else:
        temporary.replace(path)


def environment(directory: Path | None = None) -> dict[str, str]:
    """What the API needs to verify the local tokens, and the key that seals webhook secrets at
    rest (chalicelib.shared.config reads them)."""
    return {
        "TURNSTILE_JWKS": str(ensure_keys(directory)),
        "TURNSTILE_JWT_ISSUER": ISSUER,
        "TURNSTILE_JWT_AUDIENCE": AUDIENCE,
        "TURNSTILE_WEBHOOK_SECRETS_KEY": webhook_secrets_key(directory),
    }


def webhook_secrets_key(directory: Path | None = None) -> str:
    """The local stack's key for webhook secrets at rest (on AWS: a KMS key), made once."""
    path = (directory or key_dir()) / "webhook-secrets.key"
    path.parent.mkdir(parents=True, exist_ok=True)
    _place(path, base64.urlsafe_b64encode(os.urandom(32)), only_if_missing=True)
    return "local:" + path.read_text().strip()


def token(
    subject: str,
    groups: Iterable[str] = (),
    expires_in: int = DEFAULT_EXPIRY_SECONDS,
    directory: Path | None = None,
    **claims: Any,
) -> str:
    """A signed access token for `subject` in `groups` (claims as Cognito's access tokens)."""
    directory = directory or key_dir()
    ensure_keys(directory)
    key = _private_key(directory / "private.pem")
    now = int(time.time())
    payload = {
        "sub": subject,
        "iss": ISSUER,
        "client_id": AUDIENCE,
        "token_use": "access",
        "iat": now,
        "exp": now + expires_in,
        "cognito:groups": sorted(set(groups)),
        **claims,
    }
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": _kid(key.public_key())})


def _private_key(path: Path) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def _kid(public: rsa.RSAPublicKey) -> str:
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()[:12]).decode().rstrip("=")


def _public_jwk(private: rsa.RSAPrivateKey) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
    jwk.update(kid=_kid(private.public_key()), use="sig", alg="RS256")
    return jwk
