"""Deterministic clock and ids, and the services wired to in-memory adapters."""

from __future__ import annotations

import itertools
from datetime import datetime

from chalicelib import bootstrap
from chalicelib.shared.config import Settings

TEST_SETTINGS = Settings(
    table_name="turnstile",
    registrations_queue_url="",
    registrations_dlq_url="",
    cursor_secret="test-secret",
    region="us-east-1",
)


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
