"""Organizers' use cases for events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.domain.events import Event, EventStatus, apply_changes
from chalicelib.errors import Conflict, NotFound, PreconditionFailed, ServiceUnavailable
from chalicelib.messages import CommandMessage
from chalicelib.ports import Clock, EventRepository, IdGenerator, Position, QueueUnavailable, RequestRecord
from chalicelib.schemas import EventCreate
from chalicelib.services.registrations import Idempotency, RequestSubmitter, capacity_change, purge

_UPDATE_ATTEMPTS = 5


@dataclass
class EventService:
    events: EventRepository
    clock: Clock
    ids: IdGenerator
    submitter: RequestSubmitter

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

    def change_seats(
        self, event_id: str, changes: dict[str, Any], if_match: int | None, idempotency: Idempotency | None
    ) -> RequestRecord:
        """A capacity change goes through the event's queue group, so the worker can promote
        waitlisted users into new seats in the same transaction that adds them."""
        self._matching(event_id, if_match)
        others = {name: value for name, value in changes.items() if name != "capacity"}
        return self.submitter.submit(capacity_change(event_id, changes["capacity"], others), idempotency)

    def delete(self, event_id: str) -> None:
        """Hide the event now; the worker removes it and its registrations in the event's order."""
        if not self.events.mark_deleting(event_id):
            raise NotFound(f"No event with eventId '{event_id}'.")
        try:
            self.submitter.queue.send(CommandMessage(requestId=self.ids.new_id(), **purge(event_id)))
        except QueueUnavailable:
            self.events.unmark_deleting(event_id)
            raise ServiceUnavailable("The registration queue is unavailable; retry shortly.") from None

    def _matching(self, event_id: str, if_match: int | None) -> Event:
        current = self.get(event_id)
        if if_match is not None and current.version != if_match:
            raise PreconditionFailed(f"The event is at version {current.version}, not {if_match}.")
        return current
