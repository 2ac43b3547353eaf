"""Organizers' use cases for events that do not touch seats (those go through the event's queue
group: see `registrations.service.SeatChanges`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.events.domain import Event, EventStatus, apply_changes
from chalicelib.events.ports import EventRepository
from chalicelib.shared.clock import Clock, IdGenerator
from chalicelib.shared.cursor import Position
from chalicelib.shared.problems import Conflict, NotFound, PreconditionFailed

_UPDATE_ATTEMPTS = 5


@dataclass(frozen=True)
class NewEvent:
    """What an organizer gives to create an event (validated by the API)."""

    title: str
    date: str
    capacity: int
    event_id: str | None = None
    description: str = ""
    location: str = ""
    organizer: str = ""
    status: str = "active"
    waitlist_enabled: bool = False


@dataclass
class EventService:
    events: EventRepository
    clock: Clock
    ids: IdGenerator

    def create(self, new: NewEvent) -> Event:
        now = self.clock.now()
        event = Event(
            event_id=new.event_id or self.ids.new_id(),
            title=new.title,
            description=new.description,
            date=new.date,
            location=new.location,
            capacity=new.capacity,
            organizer=new.organizer,
            status=EventStatus(new.status),
            waitlist_enabled=new.waitlist_enabled,
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

    def matching(self, event_id: str, if_match: int | None) -> Event:
        """The event, if it is at version `if_match` (any version when None)."""
        current = self.get(event_id)
        if if_match is not None and current.version != if_match:
            raise PreconditionFailed(f"The event is at version {current.version}, not {if_match}.")
        return current

    def update(self, event_id: str, changes: dict[str, Any], if_match: int | None) -> Event:
        """Apply `changes` (wire names); with `if_match`, only to that version."""
        for _ in range(_UPDATE_ATTEMPTS):
            current = self.matching(event_id, if_match)
            updated = apply_changes(current, changes, self.clock.now())
            if self.events.update(updated, expected_version=current.version):
                return updated
        raise Conflict("The event kept changing while being updated; retry.")
