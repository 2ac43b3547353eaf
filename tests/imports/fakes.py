"""In-memory adapters of the import ports, with the same contracts as the AWS ones."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field, replace
from typing import Any

from chalicelib.domain.users import User
from chalicelib.errors import InvalidCursor
from chalicelib.imports.container import ImportsContainer
from chalicelib.imports.ports import COMPLETED, FAILED, RUNNING, VALIDATING, ImportRecord, Position
from chalicelib.imports.rows import RowError
from chalicelib.imports.service import ImportLimits, ImportProcessor, ImportService
from chalicelib.messages import CommandMessage
from tests.fakes import TEST_SETTINGS


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


class MemoryImports:
    def __init__(self) -> None:
        self.records: dict[str, ImportRecord] = {}
        self.leases: dict[str, tuple[str, int]] = {}
        self.stored_errors: dict[str, dict[tuple[int, str, str], RowError]] = {}
        self._lock = threading.Lock()

    def create(self, record: ImportRecord) -> bool:
        with self._lock:
            if record.import_id in self.records:
                return False
            self.records[record.import_id] = record
            return True

    def get(self, import_id: str) -> ImportRecord | None:
        return self.records.get(import_id)

    def _change(self, import_id: str, condition: Any, **changes: Any) -> bool:
        with self._lock:
            record = self.records.get(import_id)
            if record is None or not condition(record):
                return False
            self.records[import_id] = replace(record, **changes)
            return True

    def acquire(self, import_id: str, owner: str, now: int, until: int) -> bool:
        with self._lock:
            if import_id not in self.records:
                return False
            holder = self.leases.get(import_id)
            if holder is not None and holder[1] >= now and holder[0] != owner:
                return False
            self.leases[import_id] = (owner, until)
            return True

    def release(self, import_id: str, owner: str) -> None:
        with self._lock:
            if self.leases.get(import_id, ("",))[0] == owner:
                del self.leases[import_id]

    def start_validation(self, import_id: str, now: str) -> bool:
        return self._change(import_id, lambda r: r.status in ("queued", VALIDATING), status=VALIDATING)

    def validated(
        self, import_id: str, valid: int, invalid: int, users_created: int, status: str, now: str
    ) -> None:
        done = {"completed_at": now} if status == COMPLETED else {}
        self._change(
            import_id,
            lambda r: r.status == VALIDATING,
            status=status,
            valid=valid,
            invalid=invalid,
            users_created=users_created,
            **done,
        )

    def begin_batch(self, import_id: str, enqueued: int, pending: int, now: str) -> bool:
        return self._change(
            import_id,
            lambda r: r.status == RUNNING and r.enqueued == enqueued and r.pending is None,
            pending=pending,
        )

    def end_batch(self, import_id: str, pending: int) -> None:
        self._change(import_id, lambda r: r.pending == pending, enqueued=pending, pending=None)

    def complete(self, import_id: str, now: str) -> bool:
        return self._change(
            import_id,
            lambda r: r.status == RUNNING and r.enqueued == r.valid <= r.decided and r.pending is None,
            status=COMPLETED,
            completed_at=now,
        )

    def fail(self, import_id: str, reason: str, now: str) -> None:
        self._change(
            import_id, lambda r: r.status != COMPLETED, status=FAILED, failure=reason, completed_at=now
        )

    def add_errors(self, import_id: str, errors: list[RowError]) -> None:
        stored = self.stored_errors.setdefault(import_id, {})
        for error in errors:
            stored[(error.row, error.field, error.message)] = error

    def errors(
        self, import_id: str, limit: int, after: Position | None
    ) -> tuple[list[RowError], Position | None]:
        ordered = sorted(self.stored_errors.get(import_id, {}).values(), key=lambda e: e.row)
        start = 0
        if after is not None:
            if not isinstance(after.get("offset"), int):
                raise InvalidCursor("The cursor does not belong to this listing.")
            start = after["offset"]
        page = ordered[start : start + limit]
        more = start + limit < len(ordered)
        return page, ({"offset": start + limit} if more else None)

    def decide(self, import_id: str, rows: int, outcome: str = "confirmed") -> None:
        """What the registration worker's transaction ADDs, for `rows` decided rows."""
        record = self.records[import_id]
        counts = {"decided": record.decided + rows, outcome: getattr(record, outcome) + rows}
        self.records[import_id] = replace(record, **counts)


class MemoryPayloads:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self.objects[key] = body

    def get(self, key: str) -> bytes:
        return self.objects[key]


class MemoryQueue:
    def __init__(self) -> None:
        self.messages: list[tuple[dict[str, Any], int]] = []

    def send(self, message: dict[str, Any], delay_seconds: int = 0) -> None:
        self.messages.append((message, delay_seconds))


@dataclass
class MemoryFeed:
    batches: list[list[CommandMessage]] = field(default_factory=list)

    def send(self, messages: list[CommandMessage]) -> None:
        assert 1 <= len(messages) <= 10
        self.batches.append(list(messages))

    @property
    def rows(self) -> list[int]:
        return [m.row for batch in self.batches for m in batch if m.row is not None]


class MemoryUsers:
    def __init__(self, existing: set[str] | None = None) -> None:
        self.users: dict[str, User] = {u: User(u, "Existing") for u in existing or ()}

    def existing(self, user_ids: list[str]) -> set[str]:
        return {u for u in user_ids if u in self.users}

    def create(self, users: list[User]) -> int:
        new = [u for u in users if u.user_id not in self.users]
        self.users.update((u.user_id, u) for u in new)
        return len(new)


class MemoryRequests:
    def __init__(self) -> None:
        self.completed_ids: set[str] = set()

    def completed(self, request_ids: list[str]) -> set[str]:
        return {r for r in request_ids if r in self.completed_ids}


class Events:
    def __init__(self, *event_ids: str) -> None:
        self.ids = set(event_ids)

    def exists(self, event_id: str) -> bool:
        return event_id in self.ids


@dataclass
class Fakes:
    imports: MemoryImports = field(default_factory=MemoryImports)
    payloads: MemoryPayloads = field(default_factory=MemoryPayloads)
    queue: MemoryQueue = field(default_factory=MemoryQueue)
    feed: MemoryFeed = field(default_factory=MemoryFeed)
    users: MemoryUsers = field(default_factory=MemoryUsers)
    requests: MemoryRequests = field(default_factory=MemoryRequests)
    events: Events = field(default_factory=lambda: Events("pycon"))
    clock: Clock = field(default_factory=Clock)

    def container(self, limits: ImportLimits | None = None, **processor: Any) -> ImportsContainer:
        service = ImportService(self.imports, self.payloads, self.queue, self.events, self.clock, Ids())
        worker = ImportProcessor(
            self.imports,
            self.payloads,
            self.queue,
            self.feed,
            self.users,
            self.requests,
            self.clock,
            limits or ImportLimits(max_in_flight=30, slice_seconds=5, poll_seconds=0),
            **processor,
        )
        return ImportsContainer(TEST_SETTINGS, service, worker)
