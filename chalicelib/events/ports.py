"""What the events service needs from storage."""

from __future__ import annotations

from typing import Protocol

from chalicelib.events.domain import Event
from chalicelib.shared.cursor import Position


class EventRepository(Protocol):
    def add(self, event: Event) -> bool:
        """Store a new event; False when the id is taken."""
        ...

    def get(self, event_id: str) -> Event | None:
        """The event, or None when there is none or it is being deleted."""
        ...

    def list(
        self, status: str | None, limit: int, after: Position | None
    ) -> tuple[list[Event], Position | None]:
        """A page of events ordered by date, and where the next page starts (None at the end).
        Raises InvalidCursor for a position this listing did not issue."""
        ...

    def update(self, event: Event, expected_version: int) -> bool:
        """Replace the editable fields; False when the stored version is not `expected_version`."""
        ...

    def mark_deleting(self, event_id: str) -> bool:
        """Hide the event from reads until the worker purges it; False when there is none."""
        ...

    def deleting(self, event_id: str) -> Event | None:
        """The event, if it is marked deleting and not purged yet."""
        ...

    def unmark_deleting(self, event_id: str) -> None:
        """Undo `mark_deleting` (the purge could not be queued)."""
        ...
