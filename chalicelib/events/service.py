"""Organizers' use cases for events that do not touch seats (those go through the event's queue
group: see `registrations.service.SeatChanges`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.events.domain import Event, EventStatus, apply_changes
from chalicelib.events.ports import EventRepository
from chalicelib.shared.caller import Caller
from chalicelib.shared.clock import Clock, IdGenerator
from chalicelib.shared.cursor import Position
from chalicelib.shared.problems import Conflict, Forbidden, NotFound, PreconditionFailed

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
    waitlist_offer_ttl: int | None = None


@dataclass
class EventService:
    """Anyone may read published events; a draft is visible to its owner and admins only (404 to
    everyone else). Organizers and admins create events; the creator owns the event, and only
    the owner and admins change it (403 to everyone else)."""

    events: EventRepository
    clock: Clock
    ids: IdGenerator

    def create(self, caller: Caller, new: NewEvent) -> Event:
        owner = caller.require_organizer()
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
            waitlist_offer_ttl=new.waitlist_offer_ttl,
            created_at=now,
            updated_at=now,
            owner_id=owner,
        )
        if not self.events.add(event):
            raise Conflict(f"An event with eventId '{event.event_id}' already exists.")
        return event

    def get(self, caller: Caller, event_id: str) -> Event:
        event = self.events.get(event_id)
        if event is None or not _visible(caller, event):
            raise NotFound(f"No event with eventId '{event_id}'.")
        return event

    def list(
        self, caller: Caller, status: str | None, limit: int, after: Position | None
    ) -> tuple[list[Event], Position | None]:
        """A page of the events the caller may see (a page may hold fewer than `limit` when it
        passes over drafts the caller may not see; `None` as the position is the end)."""
        events, next_position = self.events.list(status, limit, after)
        return [e for e in events if _visible(caller, e)], next_position

    def owned(self, caller: Caller, event_id: str, if_match: int | None = None) -> Event:
        """The event, if the caller may change it (and it is at version `if_match`, if given)."""
        caller.require()
        current = self.get(caller, event_id)
        if not caller.owns(current.owner_id):
            raise Forbidden("Only the event's owner and admins may do this.")
        if if_match is not None and current.version != if_match:
            raise PreconditionFailed(f"The event is at version {current.version}, not {if_match}.")
        return current

    def owner_of(self, event_id: str) -> str | None:
        """Who owns the event, whoever asks (None when there is no such event)."""
        event = self.events.get(event_id)
        return None if event is None else event.owner_id

    def update(self, caller: Caller, event_id: str, changes: dict[str, Any], if_match: int | None) -> Event:
        """Apply `changes` (wire names); with `if_match`, only to that version."""
        for _ in range(_UPDATE_ATTEMPTS):
            current = self.owned(caller, event_id, if_match)
            updated = apply_changes(current, changes, self.clock.now())
            if self.events.update(updated, expected_version=current.version):
                return updated
        raise Conflict("The event kept changing while being updated; retry.")


def _visible(caller: Caller, event: Event) -> bool:
    return not event.is_draft or caller.owns(event.owner_id)
