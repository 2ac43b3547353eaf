"""What the import services need from the world: small interfaces, implemented by adapters."""

from __future__ import annotations

from typing import Any, Protocol

from chalicelib.events.domain import Event
from chalicelib.imports.domain import ImportRecord
from chalicelib.imports.rows import RowError
from chalicelib.registrations.messages import CommandMessage
from chalicelib.shared.caller import Caller
from chalicelib.shared.cursor import Position


class ImportRepository(Protocol):
    def create(self, record: ImportRecord) -> bool:
        """Store a new import; False when the id is taken."""
        ...

    def get(self, import_id: str) -> ImportRecord | None: ...

    def acquire(self, import_id: str, owner: str, now: int, until: int) -> bool:
        """Lease the import to one worker (a free, expired or own lease); False when held."""
        ...

    def release(self, import_id: str, owner: str) -> None: ...

    def start_validation(self, import_id: str, now: str) -> bool:
        """queued|validating -> validating; False otherwise."""
        ...

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
        """Store the validation's counts (and `total`, for an upload the API never read) and
        move on to `status` (running or completed)."""

    def begin_batch(self, import_id: str, enqueued: int, pending: int, now: str) -> bool:
        """Mark rows [enqueued, pending) of the plan as being sent; False when the checkpoint moved."""
        ...

    def end_batch(self, import_id: str, pending: int) -> None:
        """The batch is in the queue: the checkpoint moves to `pending`."""
        ...

    def complete(self, import_id: str, now: str) -> bool:
        """running -> completed once every valid row is enqueued and decided; False otherwise."""
        ...

    def fail(self, import_id: str, reason: str, now: str) -> None: ...

    def add_errors(self, import_id: str, errors: list[RowError]) -> None:
        """Store the row errors (idempotent: the same error rewrites the same item)."""
        ...

    def errors(
        self, import_id: str, limit: int, after: Position | None
    ) -> tuple[list[RowError], Position | None]: ...


class PayloadStore(Protocol):
    def put(self, key: str, body: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes:
        """Raises KeyError when there is no such object."""
        ...

    def upload_form(
        self, key: str, content_type: str, max_bytes: int, expires_seconds: int
    ) -> dict[str, Any]:
        """A presigned form that lets its holder upload one object to `key` (POST `url` with
        `fields` and the file as multipart/form-data), of this type and at most `max_bytes`."""
        ...


class ImportQueue(Protocol):
    def send(self, message: dict[str, Any], delay_seconds: int = 0) -> None:
        """Queue a message for the import worker. Raises QueueUnavailable."""
        ...


class RegistrationFeed(Protocol):
    def send(self, messages: list[CommandMessage]) -> None:
        """Put up to 10 commands on registrations.fifo (one SendMessageBatch); all or raise."""
        ...


# Views of other features: the requests repository and the events service satisfy
# these as they are (bootstrap passes them in), so imports never touch their items.


class RequestLookup(Protocol):
    def existing(self, request_ids: list[str]) -> set[str]:
        """Which of these requests have a record (the worker writes it when it decides one)."""
        ...


class EventLookup(Protocol):
    def owned(self, caller: Caller, event_id: str, if_match: int | None = None) -> Event:
        """The event if the caller may manage it (events.service.EventService)."""
        ...
