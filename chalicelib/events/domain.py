"""The event aggregate: what an event is and the rules for changing it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any


class EventStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    CLOSED = "closed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Event:
    event_id: str
    title: str
    date: str
    capacity: int
    description: str = ""
    location: str = ""
    organizer: str = ""
    status: EventStatus = EventStatus.ACTIVE
    waitlist_enabled: bool = False
    confirmed_count: int = 0
    waitlist_count: int = 0
    version: int = 1
    created_at: str = ""
    updated_at: str = ""
    owner_id: str = ""  # the organizer who created it; "" for events made before owners existed
    waitlist_offer_ttl: int | None = None  # seconds an offered seat is held; None: promote at once
    offered_count: int = 0  # seats held by open offers (taken, like confirmed ones)

    @property
    def is_draft(self) -> bool:
        return self.status is EventStatus.DRAFT

    @property
    def available_seats(self) -> int:
        """Seats free for new confirmations (never negative after a capacity cut): a seat held by
        an open offer is taken."""
        return max(self.capacity - self.confirmed_count - self.offered_count, 0)

    @property
    def is_open(self) -> bool:
        return self.status is EventStatus.ACTIVE


# The fields an organizer may edit: wire name -> attribute. The one list of them.
EDITABLE_FIELDS = {
    "title": "title",
    "description": "description",
    "date": "date",
    "location": "location",
    "capacity": "capacity",
    "organizer": "organizer",
    "status": "status",
    "waitlistEnabled": "waitlist_enabled",
    "waitlistOffer": "waitlist_offer_ttl",
}

# `waitlistOffer: {"ttlSeconds": N}`: how long a freed seat is held for the head of the waitlist.
MIN_OFFER_TTL_SECONDS = 10
MAX_OFFER_TTL_SECONDS = 7 * 24 * 3600


_TEXT_FIELDS = ("title", "description", "location", "organizer")


def check_changes(changes: dict[str, Any]) -> str | None:
    """The first field of `changes` (wire names) the event cannot take, or None. The API's
    schema checks the same; this guards what reaches the worker through the queue."""
    for name, value in changes.items():
        if name not in EDITABLE_FIELDS or name == "capacity":
            return name
        if name in _TEXT_FIELDS and not isinstance(value, str):
            return name
        if name == "waitlistEnabled" and not isinstance(value, bool):
            return name
        if name == "status" and value not in {s.value for s in EventStatus}:
            return name
        if name == "waitlistOffer" and not _is_offer_setting(value):
            return name
        if name == "date":
            try:
                date_sort_key(value)
            except (TypeError, ValueError, OverflowError):
                return name
    return None


def apply_changes(event: Event, changes: dict[str, Any], now: str) -> Event:
    """Return the event with `changes` (wire names of mutable fields) applied and a new version."""
    updates = {EDITABLE_FIELDS[name]: value for name, value in changes.items()}
    if "status" in updates:
        updates["status"] = EventStatus(updates["status"])
    if "waitlist_offer_ttl" in updates:
        updates["waitlist_offer_ttl"] = offer_ttl(updates["waitlist_offer_ttl"])
    return replace(event, **updates, version=event.version + 1, updated_at=now)


def offer_ttl(setting: dict[str, Any] | None) -> int | None:
    """The seconds a `waitlistOffer` setting holds a seat for (None: offers are off)."""
    return None if setting is None else int(setting["ttlSeconds"])


def offer_setting(ttl: int | None) -> dict[str, int] | None:
    """An event's `waitlistOffer` as shown and stored."""
    return None if ttl is None else {"ttlSeconds": ttl}


def _is_offer_setting(value: Any) -> bool:
    if value is None:
        return True
    if not isinstance(value, dict) or set(value) != {"ttlSeconds"}:
        return False
    ttl = value["ttlSeconds"]
    return type(ttl) is int and MIN_OFFER_TTL_SECONDS <= ttl <= MAX_OFFER_TTL_SECONDS


def date_sort_key(value: str) -> str:
    """A sort key that orders ISO dates and date-times (any offset) chronologically: the UTC
    instant, zero-padded (strftime leaves years before 1000 unpadded, which would sort wrong).
    Raises ValueError for a value that is not one, OverflowError past year 9999 in UTC."""
    if "T" not in value and len(value) == 10:
        return date.fromisoformat(value).isoformat()
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    m = moment.astimezone(UTC)
    day = f"{m.year:04d}-{m.month:02d}-{m.day:02d}"
    return f"{day}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}.{m.microsecond:06d}Z"
