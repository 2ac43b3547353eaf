"""Events on the wire: what `POST` and `PUT /events...` accept and how an event is shown."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool, StrictStr

from chalicelib.events.domain import (
    MAX_OFFER_TTL_SECONDS,
    MIN_OFFER_TTL_SECONDS,
    Event,
    offer_setting,
)
from chalicelib.events.service import NewEvent
from chalicelib.shared.wire import Capacity, Identifier, IsoDate, PageQuery, Shown, WireModel

Status = Literal["draft", "active", "closed", "cancelled"]
Title = Annotated[StrictStr, Field(min_length=1, max_length=200)]
Description = Annotated[StrictStr, Field(max_length=5000)]
Location = Annotated[StrictStr, Field(max_length=500)]
Organizer = Annotated[StrictStr, Field(max_length=200)]


class WaitlistOffer(WireModel):
    """Hold each freed seat for the head of the waitlist this long, instead of promoting them."""

    ttlSeconds: Annotated[int, Field(strict=True, ge=MIN_OFFER_TTL_SECONDS, le=MAX_OFFER_TTL_SECONDS)]


class EventCreate(WireModel):
    eventId: Identifier | None = None
    title: Title
    description: Description = ""
    date: IsoDate
    location: Location = ""
    capacity: Capacity
    organizer: Organizer = ""
    status: Status = "active"
    waitlistEnabled: StrictBool = False
    waitlistOffer: WaitlistOffer | None = None

    def new_event(self) -> NewEvent:
        return NewEvent(
            event_id=self.eventId,
            title=self.title,
            description=self.description,
            date=self.date,
            location=self.location,
            capacity=self.capacity,
            organizer=self.organizer,
            status=self.status,
            waitlist_enabled=self.waitlistEnabled,
            waitlist_offer_ttl=self.waitlistOffer.ttlSeconds if self.waitlistOffer else None,
        )


class EventUpdate(WireModel):
    title: Title | None = None
    description: Description | None = None
    date: IsoDate | None = None
    location: Location | None = None
    capacity: Capacity | None = None
    organizer: Organizer | None = None
    status: Status | None = None
    waitlistEnabled: StrictBool | None = None
    waitlistOffer: WaitlistOffer | None = None  # null turns offers off


class EventFilter(PageQuery):
    status: Status | None = None


class EventShown(Shown):
    eventId: str
    title: str
    description: str
    date: str
    location: str
    capacity: int
    organizer: str
    status: Status
    waitlistEnabled: bool
    waitlistOffer: WaitlistOffer | None
    confirmedCount: int
    waitlistCount: int
    offeredCount: int
    availableSeats: int
    version: int
    createdAt: str
    updatedAt: str
    ownerId: str | None


class EventPage(Shown):
    items: list[EventShown]
    nextCursor: str | None


EVENT_EXAMPLE = {
    "title": "PyCon Lisbon",
    "date": "2026-06-01T09:00:00Z",
    "capacity": 100,
    "waitlistEnabled": True,
    "location": "Lisbon",
}


def event_json(event: Event) -> dict[str, Any]:
    return {
        "eventId": event.event_id,
        "title": event.title,
        "description": event.description,
        "date": event.date,
        "location": event.location,
        "capacity": event.capacity,
        "organizer": event.organizer,
        "status": event.status.value,
        "waitlistEnabled": event.waitlist_enabled,
        "waitlistOffer": offer_setting(event.waitlist_offer_ttl),
        "confirmedCount": event.confirmed_count,
        "waitlistCount": event.waitlist_count,
        "offeredCount": event.offered_count,
        "availableSeats": event.available_seats,
        "version": event.version,
        "createdAt": event.created_at,
        "updatedAt": event.updated_at,
        "ownerId": event.owner_id or None,
    }
