"""Bad bearer tokens are 401 problem+json with `WWW-Authenticate: Bearer`, never a 500 and never
an anonymous pass."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from devstack import keys
from tests.fakes import TEST_KEYS, token


def _b64(value: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def _forged(**overrides) -> str:
    """Signed by a key that is not in the JWKS, under the real key's kid."""
    real_kid = jwt.get_unverified_header(token("ada"))["kid"]
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = {"sub": "ada", "iss": keys.ISSUER, "client_id": keys.AUDIENCE, "exp": int(time.time()) + 60}
    return jwt.encode({**claims, **overrides}, other, algorithm="RS256", headers={"kid": real_kid})


def _unsigned() -> str:
    header = {"alg": "none", "typ": "JWT", "kid": jwt.get_unverified_header(token("ada"))["kid"]}
    claims = {"sub": "root", "iss": keys.ISSUER, "client_id": keys.AUDIENCE, "exp": int(time.time()) + 60}
    return f"{_b64(header)}.{_b64({**claims, 'cognito:groups': ['admins']})}."


def _tampered() -> str:
    header, payload, signature = token("ada").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["cognito:groups"] = ["admins"]
    return f"{header}.{_b64(claims)}.{signature}"


BAD = {
    "expired": lambda: token("ada", expires_in=-120),
    "wrong signature": _forged,
    "wrong issuer": lambda: keys.token("ada", directory=TEST_KEYS, iss="https://evil.example"),
    "wrong audience": lambda: keys.token("ada", directory=TEST_KEYS, client_id="another-app"),
    "alg none": _unsigned,
    "tampered claims": _tampered,
    "unknown kid": lambda: jwt.encode(
        {"sub": "ada", "iss": keys.ISSUER, "client_id": keys.AUDIENCE, "exp": int(time.time()) + 60},
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        algorithm="RS256",
        headers={"kid": "nobody-knows-me"},
    ),
    "garbage": lambda: "not.a.jwt",
    "no subject": lambda: keys.token("", directory=TEST_KEYS),
    "groups not a list": lambda: keys.token("ada", directory=TEST_KEYS, **{"cognito:groups": "admins"}),
    "an ID token": lambda: keys.token(
        "ada", directory=TEST_KEYS, token_use="id", aud=keys.AUDIENCE, client_id=None
    ),
    "no token_use": lambda: keys.token("ada", directory=TEST_KEYS, token_use=None),
}


@pytest.mark.parametrize("kind", list(BAD))
def test_a_bad_token_is_401_even_where_anonymous_callers_are_welcome(api, kind):
    for path in ("/users/ada", "/events"):  # a route that needs a token, and a public one
        response = api.request("GET", path, headers={"Authorization": f"Bearer {BAD[kind]()}"})
        assert response.status_code == 401, (kind, path, response.body)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert api.json(response)["type"].endswith("/unauthorized")


@pytest.mark.parametrize("kind", list(BAD))
def test_a_refusal_says_nothing_of_which_check_failed(api, kind):
    """One generic answer: the library's message (an expiry time, a key id, the issuer it wanted)
    stays in the log."""
    response = api.request("GET", "/events", headers={"Authorization": f"Bearer {BAD[kind]()}"})
    assert api.json(response)["detail"] == "The bearer token is not valid."


@pytest.mark.parametrize("header", ["Basic YWRhOnNlY3JldA==", "Bearer", "Bearer    ", "Token abc"])
def test_anything_but_a_bearer_token_is_401(api, header):
    response = api.request("GET", "/events", headers={"Authorization": header})
    assert response.status_code == 401


def test_a_valid_token_names_the_caller(api):
    api.request("POST", "/users", {"userId": "ada", "name": "Ada"})
    response = api.request("GET", "/users/ada", headers={"Authorization": f"Bearer {token('ada')}"})
    assert response.status_code == 200 and api.json(response)["userId"] == "ada"
