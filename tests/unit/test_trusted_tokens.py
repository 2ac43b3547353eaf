"""A verified token is trusted again by its exact text, until it expires and for at most
TRUSTED_SECONDS; anything else is verified (and refused) as before."""

from __future__ import annotations

import time

import pytest

from chalicelib.shared.auth import LEEWAY_SECONDS, TRUSTED_SECONDS, TokenVerifier, jwks_keys
from chalicelib.shared.problems import Unauthorized
from devstack import keys
from tests.fakes import TEST_SETTINGS, token


def verifier() -> tuple[list[float], list[str], TokenVerifier]:
    now, looked_up = [time.time()], []
    keys_of = jwks_keys(TEST_SETTINGS.jwks)

    def counted(text: str):
        looked_up.append(text)
        return keys_of(text)

    return now, looked_up, TokenVerifier(counted, keys.ISSUER, keys.AUDIENCE, clock=lambda: now[0])


def test_a_token_verified_once_is_trusted_again_without_verifying_it():
    _, looked_up, tokens = verifier()
    ada = token("ada", "organizers")
    assert tokens.verify(ada).subject == "ada"
    assert tokens.verify(ada).is_organizer
    assert len(looked_up) == 1


def test_trust_lasts_at_most_trusted_seconds():
    now, looked_up, tokens = verifier()
    ada = token("ada", expires_in=3600)
    tokens.verify(ada)
    now[0] += TRUSTED_SECONDS - 1
    tokens.verify(ada)
    now[0] += 1
    tokens.verify(ada)
    assert len(looked_up) == 2, "verified again once TRUSTED_SECONDS had passed"


def test_trust_never_outlasts_the_tokens_expiry():
    now, looked_up, tokens = verifier()
    ada = token("ada", expires_in=-(LEEWAY_SECONDS - 5))  # expired, still inside the leeway
    tokens.verify(ada)
    now[0] += 6  # past exp + leeway by the verifier's clock
    tokens.verify(ada)
    assert len(looked_up) == 2, "verified again: it was trusted only until exp + leeway"


def test_a_changed_token_is_verified_afresh_and_refused():
    _, _, tokens = verifier()
    ada = token("ada")
    tokens.verify(ada)
    header, payload, signature = ada.split(".")
    with pytest.raises(Unauthorized):
        tokens.verify(f"{header}.{payload}.{signature[:-2]}AA")
