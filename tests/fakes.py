"""Deterministic clock and ids, and the services wired to in-memory adapters."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from chalicelib import bootstrap
from chalicelib.shared.caller import Caller
from chalicelib.shared.config import Settings
from devstack import keys

TEST_KEYS = keys.key_dir()  # tests/conftest.py points it at a throwaway folder
TEST_SETTINGS = Settings(
    table_name="turnstile",
    registrations_queue_url="",
    registrations_dlq_url="",
    cursor_secret="test-secret",
    region="us-east-1",
    jwks=str(keys.ensure_keys(TEST_KEYS)),
    jwt_issuer=keys.ISSUER,
    jwt_audience=keys.AUDIENCE,
)


def token(subject: str, *groups: str, expires_in: int = 3600) -> str:
    """A valid bearer token for the services of `memory_services()`."""
    return keys.token(subject, groups, expires_in, directory=TEST_KEYS)


def bearer(subject: str, *groups: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(subject, *groups)}"}


ADMIN = bearer("root", "admins")
ADMIN_CALLER = Caller("root", frozenset({"admins"}))  # for calling services directly


class FixedClock:
    def __init__(self, start: str = "2026-01-01T00:00:00.000000Z") -> None:
        self.value = start

    def now(self) -> str:
        return self.value

    def epoch_seconds(self) -> int:
        return int(datetime.fromisoformat(self.value.replace("Z", "+00:00")).timestamp())


class CountingIds:
    def __init__(self, prefix: str = "id") -> None:
        self._counter = itertools.count(1)
        self._prefix = prefix

    def new_id(self) -> str:
        return f"{self._prefix}{next(self._counter):04d}"


def memory_services(settings: Settings = TEST_SETTINGS) -> bootstrap.Services:
    return bootstrap.in_memory(settings, FixedClock(), CountingIds())


class AsCaller:
    """chalice.test's HTTP client sending `headers` (by default an admin's token) with every call;
    a call's own headers win ({"Authorization": None} drops the token)."""

    def __init__(self, http: Any, headers: dict[str, str] | None = None) -> None:
        self.http = http
        self.headers = ADMIN if headers is None else headers

    def __getattr__(self, method: str) -> Any:
        call = getattr(self.http, method)

        def with_headers(path: str, headers: dict[str, str | None] | None = None, **kwargs: Any) -> Any:
            merged = {**self.headers, **(headers or {})}
            return call(path, headers={k: v for k, v in merged.items() if v is not None}, **kwargs)

        return with_headers


def session(*who: str) -> Any:
    """A requests.Session calling the local stack as `who` (subject, groups...), by default as
    an admin."""
    import requests

    http = requests.Session()
    http.headers.update(bearer(*who) if who else ADMIN)
    return http
