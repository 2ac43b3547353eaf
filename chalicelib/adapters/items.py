"""How each aggregate is laid out as a DynamoDB item (keys, index keys, attributes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.domain.events import Event, EventStatus, date_sort_key
from chalicelib.domain.users import User

META = "META"


def event_pk(event_id: str) -> str:
    return f"EVENT#{event_id}"


def user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def event_to_item(event: Event) -> dict[str, Any]:
    sort_key = f"{date_sort_key(event.date)}#{event.event_id}"
    return {
        "PK": event_pk(event.event_id),
        "SK": META,
        "GSI1PK": "EVENTS",
        "GSI1SK": sort_key,
        "GSI2PK": f"EVENTS#{event.status.value}",
        "GSI2SK": sort_key,
        "entity": "event",
        "eventId": event.event_id,
        "title": event.title,
        "description": event.description,
        "date": event.date,
        "location": event.location,
        "capacity": event.capacity,
        "organizer": event.organizer,
        "status": event.status.value,
        "waitlistEnabled": event.waitlist_enabled,
        "confirmedCount": event.confirmed_count,
        "waitlistCount": event.waitlist_count,
        "version": event.version,
        "createdAt": event.created_at,
        "updatedAt": event.updated_at,
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
        version=int(item.get("version", 1)),
        created_at=item.get("createdAt", ""),
        updated_at=item.get("updatedAt", ""),
    )


def user_to_item(user: User) -> dict[str, Any]:
    return {
        "PK": user_pk(user.user_id),
        "SK": META,
        "entity": "user",
        "userId": user.user_id,
        "name": user.name,
        "email": user.email,
        "createdAt": user.created_at,
    }


def user_from_item(item: dict[str, Any]) -> User:
    return User(
        user_id=item["userId"],
        name=item["name"],
        email=item.get("email"),
        created_at=item.get("createdAt", ""),
    )


def request_pk(request_id: str) -> str:
    return f"REQUEST#{request_id}"


def registration_item(
    event_id: str, user_id: str, standing: Any, request_id: str, now: str, wait_seq: int | None = None
) -> dict[str, Any]:
    """A user's registration for an event: confirmed, or waitlisted with its place (`waitSeq`)."""
    status = standing.value
    item: dict[str, Any] = {
        "PK": event_pk(event_id),
        "SK": f"REG#{user_id}",
        "entity": "registration",
        "eventId": event_id,
        "userId": user_id,
        "status": status,
        "requestId": request_id,
        "registeredAt": now,
        "GSI1PK": f"USER#{user_id}#{status}",
        "GSI1SK": event_id,
    }
    if wait_seq is not None:
        item["waitSeq"] = wait_seq
    else:
        item.update(confirmedAt=now, GSI2PK=f"EVENTREG#{event_id}#confirmed", GSI2SK=f"{now}#{user_id}")
    return item


REQUEST_TTL_SECONDS = 30 * 24 * 3600


def request_item(
    request_id: str,
    type_: str,
    event_id: str,
    user_id: str | None,
    status: str,
    created_at: str,
    import_id: str | None = None,
    row: int | None = None,
) -> dict[str, Any]:
    """The record of one asynchronous request (what `GET /requests/{id}` reads); it expires
    REQUEST_TTL_SECONDS after it was created."""
    created = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    return {
        "PK": request_pk(request_id),
        "SK": META,
        "entity": "request",
        "requestId": request_id,
        "type": type_,
        "eventId": event_id,
        "userId": user_id,
        "importId": import_id,
        "row": row,
        "status": status,
        "createdAt": created_at,
        "expiresAt": int(created.timestamp()) + REQUEST_TTL_SECONDS,
    }
