"""How an event is stored: the event item's attributes and index keys, in one place. Pure (plain
values in and out; the adapters convert them to DynamoDB's types).

event            EVENT#{eventId} / META           GSI1 every event by date,
                                                  GSI2 the events of one status by date
seat counters    EVENT#{eventId} / SEATS          in no index

The seat counters belong to the registration worker, which writes them (`registrations.items`)
on an item of their own, so a decision rewrites neither the event nor its two index entries;
an event is read with them (`event_from_item(event, seats)`). Events stored before the counters
moved keep them on the event item until their first decision writes the seats item.
A deleted event keeps its item, marked DELETING and out of both indexes, until it is purged.
"""

from __future__ import annotations

from typing import Any

from chalicelib.events.domain import (
    EDITABLE_FIELDS,
    Event,
    EventStatus,
    date_sort_key,
    offer_setting,
    offer_ttl,
)
from chalicelib.shared import table

ENTITY = "event"
DELETING = "deleting"  # set while the event is being purged: reads treat it as gone
INDEX_PARTITIONS = ("GSI1PK", "GSI2PK")  # removed while deleting: out of every listing
SEAT_VERSION = "seatVersion"  # on the seats item: moves with every decision and every edit
COUNTED = "confirmedCount"  # present once a decision has written an item's counts
_EDITED_KEYS = ("GSI1SK", "GSI2PK", "GSI2SK")  # an edit of the date or status moves these


def event_to_item(event: Event) -> dict[str, Any]:
    sort_key = f"{date_sort_key(event.date)}#{event.event_id}"
    return {
        "PK": table.event_pk(event.event_id),
        "SK": table.META,
        "GSI1PK": table.ALL_EVENTS,
        "GSI1SK": sort_key,
        "GSI2PK": table.events_with_status(event.status.value),
        "GSI2SK": sort_key,
        "entity": ENTITY,
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
        "version": event.version,
        "createdAt": event.created_at,
        "updatedAt": event.updated_at,
        "ownerId": event.owner_id or None,
    }


def counted_on(event_item: dict[str, Any], seats_item: dict[str, Any] | None) -> dict[str, Any]:
    """The item an event's counters are read from: its seats item, or (stored before that item
    existed, and not decided since) the event item itself."""
    return seats_item if seats_item and COUNTED in seats_item else event_item


def event_from_item(item: dict[str, Any], seats: dict[str, Any] | None = None) -> Event:
    """The event, with the counts of its seats item (`counted_on`)."""
    counted = counted_on(item, seats)
    return Event(
        event_id=item["eventId"],
        title=item["title"],
        description=item.get("description", ""),
        date=item["date"],
        location=item.get("location", ""),
        capacity=int(item["capacity"]),
        organizer=item.get("organizer", ""),
        status=EventStatus(item["status"]),
        waitlist_enabled=bool(item.get("waitlistEnabled", False)),
        confirmed_count=int(counted.get("confirmedCount", 0)),
        waitlist_count=int(counted.get("waitlistCount", 0)),
        waitlist_offer_ttl=offer_ttl(item.get("waitlistOffer")),
        offered_count=int(counted.get("offeredCount", 0)),
        version=int(item.get("version", 1)),
        created_at=item.get("createdAt", ""),
        updated_at=item.get("updatedAt", ""),
        owner_id=item.get("ownerId", ""),
    )


def edited_attributes(event: Event) -> dict[str, Any]:
    """The attributes an edit rewrites: the editable fields, their index keys and `updatedAt`
    (never the seat counters)."""
    item = event_to_item(event)
    return {name: item[name] for name in (*EDITABLE_FIELDS, *_EDITED_KEYS, "updatedAt")}


def is_event(item: dict[str, Any]) -> bool:
    return item.get("entity") == ENTITY


def is_deleting(item: dict[str, Any]) -> bool:
    return DELETING in item
