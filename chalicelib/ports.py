"""The interfaces services depend on. Adapters implement them (DynamoDB, SQS, in memory)."""

from __future__ import annotations

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

    def delete(self, event_id: str) -> bool:
        """False when there was no such event."""


class UserRepository(Protocol):
    def add(self, user: User) -> bool: ...

    def get(self, user_id: str) -> User | None: ...


class Clock(Protocol):
    def now(self) -> str:
        """The current UTC time as ISO 8601 with a Z suffix."""


class IdGenerator(Protocol):
    def new_id(self) -> str: ...
