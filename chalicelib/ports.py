"""The interfaces services depend on. Adapters implement them (DynamoDB, SQS, in memory)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.domain.events import Event
from chalicelib.domain.users import User

Position = dict[str, Any]


class EventRepository(Protocol):
    def add(self, event: Event) -> bool:
        """Store a new event; False when the id is taken."""

    def get(self, event_id: str) -> Event | None: ...

    def list(
        self, status: str | None, limit: int, after: Position | None
    ) -> tuple[list[Event], Position | None]:
        """A page of events ordered by date, and where the next page starts (None at the end)."""

    def update(self, event: Event, expected_version: int) -> bool:
        """Replace the mutable fields; False when the stored version is not `expected_version`."""

    def mark_deleting(self, event_id: str) -> bool:
        """Hide the event from reads until the worker purges it; False when there is none."""

    def unmark_deleting(self, event_id: str) -> None:
        """Undo `mark_deleting` (the purge could not be queued)."""


class UserRepository(Protocol):
    def add(self, user: User) -> bool: ...

    def get(self, user_id: str) -> User | None: ...


class Clock(Protocol):
    def now(self) -> str:
        """The current UTC time as ISO 8601 with a Z suffix."""


class IdGenerator(Protocol):
    def new_id(self) -> str: ...


@dataclass(frozen=True)
class RequestRecord:
    """An accepted asynchronous request and, once decided, its outcome (wire-shaped dict)."""

    request_id: str
    type: str
    event_id: str
    user_id: str | None
    status: str  # pending | completed | failed
    created_at: str
    outcome: dict[str, Any] | None = None
    completed_at: str | None = None
    failure: str | None = None


class IdempotencyKeyTaken(Exception):
    """The Idempotency-Key was already used; carries what it was used for."""

    def __init__(self, request_id: str, fingerprint: str) -> None:
        super().__init__(request_id)
        self.request_id = request_id
        self.fingerprint = fingerprint


class RequestRepository(Protocol):
    def create(self, record: RequestRecord, idempotency: tuple[str, str] | None) -> None:
        """Store a pending request; with (key, fingerprint), claim the key in the same write.

        Raises IdempotencyKeyTaken when the key is already claimed."""

    def get(self, request_id: str) -> RequestRecord | None: ...

    def find_idempotent(self, key: str) -> tuple[str, str] | None:
        """(request id, fingerprint) the key was first used for, if any."""

    def mark_failed(self, request_id: str, reason: str, now: str) -> None: ...

    def release_idempotency(self, key: str) -> None: ...


class CommandQueue(Protocol):
    def send(self, message: Any) -> None:
        """Raises QueueUnavailable."""


class RegistrationQueries(Protocol):
    def for_event(
        self, event_id: str, status: str, limit: int, after: Position | None
    ) -> tuple[list[dict[str, Any]], Position | None]: ...

    def for_user(
        self, user_id: str, status: str, limit: int, after: Position | None
    ) -> tuple[list[dict[str, Any]], Position | None]: ...


class QueueUnavailable(Exception):
    """The queue could not take the message (network, throttling, misconfiguration)."""
