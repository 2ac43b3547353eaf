"""Deterministic clock and ids, and a container wired to in-memory adapters."""

from __future__ import annotations

import itertools

from chalicelib.adapters.memory import (
    MemoryCommandQueue,
    MemoryEventRepository,
    MemoryRegistrationQueries,
    MemoryRequestRepository,
    MemoryUserRepository,
)
from chalicelib.config import Settings
from chalicelib.container import Container
from chalicelib.services.events import EventService
from chalicelib.services.registrations import RegistrationService, RequestSubmitter
from chalicelib.services.users import UserService

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


class CountingIds:
    def __init__(self, prefix: str = "id") -> None:
        self._counter = itertools.count(1)
        self._prefix = prefix

    def new_id(self) -> str:
        return f"{self._prefix}{next(self._counter):04d}"


def memory_container() -> Container:
    clock, ids = FixedClock(), CountingIds()
    events, users, requests = MemoryEventRepository(), MemoryUserRepository(), MemoryRequestRepository()
    submitter = RequestSubmitter(requests, MemoryCommandQueue(), clock, ids)
    return Container(
        settings=TEST_SETTINGS,
        events=EventService(events, clock, ids, submitter),
        users=UserService(users, clock, ids),
        registrations=RegistrationService(events, users, requests, MemoryRegistrationQueries(), submitter),
    )
