from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

from app import app
from chalicelib import bootstrap
from tests.fakes import ADMIN, memory_services


class Api:
    """chalice.test.Client with JSON helpers."""

    def __init__(self, client: Client) -> None:
        self.http = client.http

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        """As an admin unless `headers` say who (an `Authorization`, or {"Authorization": None}
        for an anonymous call)."""
        all_headers = {"Content-Type": "application/json", **ADMIN, **(headers or {})}
        all_headers = {name: value for name, value in all_headers.items() if value is not None}
        raw = body if isinstance(body, (str, bytes)) or body is None else json.dumps(body)
        return getattr(self.http, method.lower())(path, headers=all_headers, body=raw or b"")

    def json(self, response: Any) -> Any:
        return json.loads(response.body) if response.body else None


@pytest.fixture
def api() -> Iterator[Api]:
    bootstrap.use(memory_services())
    with Client(app) as client:
        yield Api(client)
    bootstrap.use(None)
