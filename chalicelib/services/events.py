"""Organizers' use cases for events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.domain.events import Event, EventStatus, apply_changes
from chalicelib.errors import Conflict, NotFound, PreconditionFailed
from chalicelib.ports import Clock, EventRepository, IdGenerator, Position
from chalicelib.schemas import EventCreate

_UPDATE_ATTEMPTS = 5


@dataclass
class EventService:
    events: EventRepository
    clock: Clock
    ids: IdGenerator

    def create(self, request: EventCreate) -> Event:
        now = self.clock.now()
        event = Event(
            event_id=request.eventId or self.ids.new_id(),
            title=request.title,
            description=request.description,
            date=request.date,
            location=request.location,
            capacity=request.capacity,
            organizer=request.organizer,
            status=EventStatus(request.status),
            waitlist_enabled=request.waitlistEnabled,
            created_at=now,
            updated_at=now,
        )
        if not self.events.add(event):
            raise Conflict(f"An event with eventId '{event.event_id}' already exists.")
        return event

    def get(self, event_id: str) -> Event:
        event = self.events.get(event_id)
        if event is None:
            raise NotFound(f"No event with eventId '{event_id}'.")
        return event

    def list(
        self, status: str | None, limit: int, after: Position | None
    ) -> tuple[list[Event], Position | None]:
        return self.events.list(status, limit, after)

    def update(self, event_id: str, changes: dict[str, Any], if_match: int | None) -> Event:
        """Apply `changes`; with `if_match`, only to that version (optimistic concurrency)."""
        for _ in range(_UPDATE_ATTEMPTS):
            current = self.get(event_id)
            if if_match is not None and current.version != if_match:
                raise PreconditionFailed(f"The event is at version {current.version}, not {if_match}.")
            updated = apply_changes(current, changes, self.clock.now())
            if self.events.update(updated, expected_version=current.version):
                return updated
        raise Conflict("The event kept changing while being updated; retry.")

    def delete(self, event_id: str) -> None:
        if not self.events.delete(event_id):
            raise NotFound(f"No event with eventId '{event_id}'.")
