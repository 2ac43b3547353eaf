"""Bearer tokens (JWT, RS256) verified against a JWKS: Cognito's user pool on AWS, a key pair the
local stack generates under `.cache/` locally. One verification, two key sources.

Checked: the signature (RS256 only, so `alg: none` and HMAC tricks fail), a known `kid`, `exp`,
the issuer, that it is an access token (`token_use: access`: a Cognito ID token is for the
client, not for calling APIs) and its app client (`client_id`). The subject (`sub`) is the
caller's user id; groups come from `cognito:groups`. Every refusal answers the same generic
401; the reason is logged, never sent back (it would tell a prober which check it passed).

A token verified once is trusted again, by its exact text, until it expires and for at most
TRUSTED_SECONDS (less than the JWKS keys are cached): a client polling its request sends the same
token each time, and an RS256 verification costs the API about a tenth of an accept's CPU.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt

from chalicelib.shared.caller import ANONYMOUS, Caller
from chalicelib.shared.problems import Unauthorized

GROUPS_CLAIM = "cognito:groups"
LEEWAY_SECONDS = 30
INVALID_TOKEN = "The bearer token is not valid."
TRUSTED_SECONDS = 300  # a verified token's longest reuse without verifying it again
MOST_TRUSTED = 10_000  # tokens remembered at once (past that it starts afresh)

logger = logging.getLogger("turnstile.auth")


KeySource = Callable[[str], Any]  # a token -> the public key that must have signed it


def jwks_keys(location: str) -> KeySource:
    """Keys from a JWKS: an https URL (Cognito's, cached) or a JSON file (the local stack's)."""
    if location.startswith(("https://", "http://")):
        client = jwt.PyJWKClient(location, cache_keys=True, lifespan=3600, timeout=5)
        return lambda token: client.get_signing_key_from_jwt(token).key
    path = Path(location.removeprefix("file://"))
    known: dict[str | None, Any] = {}

    def from_file(token: str) -> Any:
        kid = jwt.get_unverified_header(token).get("kid")
        if kid not in known:  # read once; again only for a kid not seen (a regenerated key)
            known.update({k.key_id: k.key for k in jwt.PyJWKSet.from_dict(json.loads(path.read_text())).keys})
        if kid not in known:
            raise jwt.PyJWKError(f"no key with kid {kid!r}")
        return known[kid]

    return from_file


class TokenVerifier:
    def __init__(
        self, keys: KeySource, issuer: str, audience: str, clock: Callable[[], float] = time.time
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._clock = clock
        self._trusted: dict[str, tuple[float, Caller]] = {}  # token -> (trusted until, its caller)

    def caller(self, authorization: str | None) -> Caller:
        """The caller an `Authorization` header names: anonymous without one, else its token's
        subject. Raises Unauthorized for anything but a valid `Bearer` token."""
        if authorization is None:
            return ANONYMOUS
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Send a bearer token: `Authorization: Bearer <token>`.")
        return self.verify(token.strip())

    def verify(self, token: str) -> Caller:
        now = self._clock()
        trusted = self._trusted.get(token)
        if trusted is not None and now < trusted[0]:
            return trusted[1]
        caller, expires = self._verified(token)
        if len(self._trusted) >= MOST_TRUSTED:
            self._trusted.clear()
        self._trusted[token] = (min(expires + LEEWAY_SECONDS, now + TRUSTED_SECONDS), caller)
        return caller

    def _verified(self, token: str) -> tuple[Caller, float]:
        """The token's caller and when it expires (`exp`), once every check has passed."""
        try:
            claims = jwt.decode(
                token,
                self._keys(token),
                algorithms=["RS256"],
                issuer=self._issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "sub"], "verify_aud": False},
            )
        except (jwt.PyJWTError, ValueError, KeyError, OSError) as error:
            raise _refused(str(error)) from None
        if claims.get("token_use") != "access":
            raise _refused("not an access token")
        if claims.get("client_id") != self._audience:
            raise _refused("issued for another app client")
        groups = claims.get(GROUPS_CLAIM, [])
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            raise _refused(f"{GROUPS_CLAIM} is not a list of names")
        subject = claims["sub"]
        if not isinstance(subject, str) or not subject:
            raise _refused("no subject")
        return Caller(subject, frozenset(groups)), float(claims["exp"])


def _refused(reason: str) -> Unauthorized:
    logger.info("bearer token refused: %s", reason)
    return Unauthorized(INVALID_TOKEN)
