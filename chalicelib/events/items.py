"""How an event is stored: the event item's attributes and index keys, in one place. Pure (plain
values in and out; the adapters convert them to DynamoDB's types).

event            EVENT#{eventId} / META           GSI1 every event by date,
                                                  GSI2 the events of one status by date

The seat counters on the same item belong to the registration worker, which reads and writes
them through `event_from_item` and `edited_attributes` (and its own `registrations.items`).
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
        "confirmedCount": event.confirmed_count,
        "waitlistCount": event.waitlist_count,
        "offeredCount": event.offered_count,
        "version": event.version,
        "createdAt": event.created_at,
        "updatedAt": event.updated_at,
        "ownerId": event.owner_id or None,
    }


def event_from_item(item: dict[str, Any]) -> Event:
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
        confirmed_count=int(item.get("confirmedCount", 0)),
        waitlist_count=int(item.get("waitlistCount", 0)),
        waitlist_offer_ttl=offer_ttl(item.get("waitlistOffer")),
        offered_count=int(item.get("offeredCount", 0)),
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
