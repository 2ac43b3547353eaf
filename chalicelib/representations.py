"""How resources look on the wire (camelCase JSON)."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.events import Event
from chalicelib.domain.users import User
from chalicelib.ports import RequestRecord


def event(value: Event) -> dict[str, Any]:
    return {
        "eventId": value.event_id,
        "title": value.title,
        "description": value.description,
        "date": value.date,
        "location": value.location,
        "capacity": value.capacity,
        "organizer": value.organizer,
        "status": value.status.value,
        "waitlistEnabled": value.waitlist_enabled,
        "confirmedCount": value.confirmed_count,
        "waitlistCount": value.waitlist_count,
        "availableSeats": value.available_seats,
        "version": value.version,
        "createdAt": value.created_at,
        "updatedAt": value.updated_at,
    }


def user(value: User) -> dict[str, Any]:
    body: dict[str, Any] = {"userId": value.user_id, "name": value.name, "createdAt": value.created_at}
    if value.email is not None:
        body["email"] = value.email
    return body


def request(value: RequestRecord) -> dict[str, Any]:
    body: dict[str, Any] = {
        "requestId": value.request_id,
        "type": value.type,
        "eventId": value.event_id,
        "status": value.status,
        "createdAt": value.created_at,
    }
    if value.user_id is not None:
        body["userId"] = value.user_id
    if value.outcome is not None:
        body["outcome"] = value.outcome
    if value.failure is not None:
        body["failure"] = value.failure
    if value.completed_at is not None:
        body["completedAt"] = value.completed_at
    return body
