"""Imports in memory, with the same contracts as the DynamoDB, S3 and SQS adapters."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Any

from chalicelib.imports.domain import AWAITING_UPLOAD, COMPLETED, FAILED, RUNNING, VALIDATING, ImportRecord
from chalicelib.imports.rows import RowError
from chalicelib.registrations.messages import CommandMessage
from chalicelib.shared.cursor import Position
from chalicelib.shared.problems import InvalidCursor


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
        startable = ("queued", AWAITING_UPLOAD, VALIDATING)
        return self._change(import_id, lambda r: r.status in startable, status=VALIDATING)

    def validated(
        self,
        import_id: str,
        valid: int,
        invalid: int,
        users_created: int,
        status: str,
        now: str,
        total: int | None = None,
    ) -> None:
        done: dict[str, Any] = {"completed_at": now} if status == COMPLETED else {}
        if total is not None:
            done["total"] = total
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

    def upload_form(
        self, key: str, content_type: str, max_bytes: int, expires_seconds: int
    ) -> dict[str, Any]:
        return {"url": "memory://uploads", "fields": {"key": key, "Content-Type": content_type}}


class MemoryImportQueue:
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
