"""In-memory adapters of the import ports, with the same contracts as the AWS ones."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from typing import Any

from chalicelib import bootstrap
from chalicelib.events.domain import Event
from chalicelib.imports.memory import MemoryFeed, MemoryImportQueue, MemoryImports, MemoryPayloads
from chalicelib.imports.service import ImportLimits, ImportProcessor, ImportService
from chalicelib.shared.caller import Caller
from chalicelib.shared.problems import Forbidden, NotFound
from chalicelib.users.domain import User
from tests.fakes import memory_services


class Clock:
    def __init__(self) -> None:
        self.epoch = 1_800_000_000

    def now(self) -> str:
        return "2026-01-01T00:00:00.000000Z"

    def epoch_seconds(self) -> int:
        return self.epoch


class Ids:
    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def new_id(self) -> str:
        return f"imp{next(self._counter):04d}"


class MemoryUsers:
    def __init__(self, existing: set[str] | None = None) -> None:
        self.users: dict[str, User] = {u: User(u, "Existing") for u in existing or ()}


class MemoryRequests:
    def __init__(self) -> None:
        self.completed_ids: set[str] = set()

    def existing(self, request_ids: list[str]) -> set[str]:
        return {r for r in request_ids if r in self.completed_ids}


class Events:
    def __init__(self, *event_ids: str) -> None:
        self.ids = set(event_ids)

    def owned(self, caller: Caller, event_id: str, if_match: int | None = None) -> Event:
        """As the events service: this fake's events are owned by "organizer"."""
        caller.require()
        if event_id not in self.ids:
            raise NotFound(f"No event with eventId '{event_id}'.")
        if not caller.owns("organizer"):
            raise Forbidden("Only the event's owner and admins may do this.")
        return Event(event_id, "t", "2026-01-01", 10, owner_id="organizer")


@dataclass
class Fakes:
    imports: MemoryImports = field(default_factory=MemoryImports)
    payloads: MemoryPayloads = field(default_factory=MemoryPayloads)
    queue: MemoryImportQueue = field(default_factory=MemoryImportQueue)
    feed: MemoryFeed = field(default_factory=MemoryFeed)
    users: MemoryUsers = field(default_factory=MemoryUsers)
    requests: MemoryRequests = field(default_factory=MemoryRequests)
    events: Events = field(default_factory=lambda: Events("pycon"))
    clock: Clock = field(default_factory=Clock)

    def wired(self, limits: ImportLimits | None = None, **processor: Any) -> ImportsUnderTest:
        service = ImportService(self.imports, self.payloads, self.queue, self.events, self.clock, Ids())
        worker = ImportProcessor(
            self.imports,
            self.payloads,
            self.queue,
            self.feed,
            self.requests,
            self.clock,
            limits or ImportLimits(max_in_flight=30, slice_seconds=5, poll_seconds=0),
            **processor,
        )
        return ImportsUnderTest(service, worker)

    def services(self) -> bootstrap.Services:
        """The app's services with imports on these fakes (for API tests)."""
        imports = self.wired()
        return replace(memory_services(), imports=imports.service, import_processor=imports.processor)


@dataclass
class ImportsUnderTest:
    service: ImportService
    processor: ImportProcessor
