"""Which table changes become which notifications (pure: plain dicts in, values out).

The outbox is the decision itself: the registration worker writes a request's outcome, a
registration's move (promoted, offered a seat, the offer accepted, declined or lapsed) or an
import's completion in its transaction, and DynamoDB Streams carries that change here. Each
notification's id is derived from the change's natural key, so a redelivered stream record (or a
relay that crashed and ran again) yields the same id, the same delivery records and the same
`webhook-id`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from chalicelib.imports.items import completed_now
from chalicelib.registrations.items import (
    OutcomeKind,
    RequestType,
    Standing,
    completed_request,
    move_from_images,
)

PROMOTED = "registration.promoted"
CONFIRMED = "registration.confirmed"
WAITLISTED = "registration.waitlisted"
REJECTED = "registration.rejected"
CANCELLED = "registration.cancelled"
OFFERED = "registration.offered"
OFFER_DECLINED = "registration.offer_declined"
OFFER_EXPIRED = "registration.offer_expired"
IMPORT_COMPLETED = "import.completed"

EVENT_TYPES: tuple[str, ...] = (
    PROMOTED,
    CONFIRMED,
    WAITLISTED,
    REJECTED,
    CANCELLED,
    OFFERED,
    OFFER_DECLINED,
    OFFER_EXPIRED,
    IMPORT_COMPLETED,
)

_OUTCOME_TYPES = {
    OutcomeKind.CONFIRMED: CONFIRMED,
    OutcomeKind.WAITLISTED: WAITLISTED,
    OutcomeKind.REJECTED: REJECTED,
    OutcomeKind.CANCELLED: CANCELLED,
}


@dataclass(frozen=True)
class Notification:
    id: str  # the `webhook-id`: stable for this change, whatever redelivers it
    type: str
    timestamp: str  # when the change happened (ISO 8601), not when it is sent
    data: dict[str, Any]
    event_owner: str = ""  # who owns the event it is about: routes it, never sent

    def body(self) -> str:
        """The exact JSON body sent (and stored, so every retry sends the same bytes)."""
        payload = {"id": self.id, "type": self.type, "timestamp": self.timestamp, "data": self.data}
        return json.dumps(payload, separators=(",", ":"), sort_keys=True)


def notification_id(natural_key: str) -> str:
    return "msg_" + hashlib.sha256(natural_key.encode()).hexdigest()[:32]


def wants(subscribed: list[str] | tuple[str, ...], event_type: str) -> bool:
    return event_type in subscribed


def reaches(owner_id: str, covers_all: bool, notification: Notification) -> bool:
    """A subscription hears about its owner's events only, unless it covers every event (an
    admin's)."""
    return covers_all or (bool(owner_id) and owner_id == notification.event_owner)


def from_change(old: dict[str, Any] | None, new: dict[str, Any] | None) -> Notification | None:
    """The notification one item change causes, if any (images as plain Python dicts)."""
    if not new:
        return None
    for notification in (_request, _registration, _import):
        found = notification(old, new)
        if found is not None:
            return found
    return None


def _request(old: dict[str, Any] | None, new: dict[str, Any]) -> Notification | None:
    request = completed_request(old, new)
    if request is None:
        return None
    event_type = _OUTCOME_TYPES.get(request.outcome.get("type", ""))
    if event_type is None or not _told_by_request(request.type, event_type):
        return None
    data: dict[str, Any] = {
        "eventId": request.event_id,
        "userId": request.user_id,
        "requestId": request.request_id,
        "outcome": request.outcome,
        **request.stamp.counts,
    }
    if request.import_id:
        data["importId"] = request.import_id
    key = notification_id(f"{event_type}:{request.request_id}")
    return Notification(key, event_type, request.completed_at, data, request.stamp.event_owner)


def _told_by_request(request_type: str, event_type: str) -> bool:
    """Whether a completed request is announced itself. An offer's expiry and an accepted or
    declined offer are announced by the registration's move instead (offer_expired, promoted,
    offer_declined); a rejected accept or decline is announced as `registration.rejected`."""
    if request_type == RequestType.EXPIRE_OFFER:
        return False
    return not (request_type == RequestType.ACCEPT_OFFER and event_type == CONFIRMED)


# A registration's move that subscribers hear about, by its standings before and after (the
# other moves are announced by their request's outcome: confirmed, waitlisted, cancelled).
_MOVES: dict[tuple[Standing | None, Standing | None], str] = {
    (Standing.WAITLISTED, Standing.CONFIRMED): PROMOTED,
    (Standing.OFFERED, Standing.CONFIRMED): PROMOTED,  # the offer accepted
    (Standing.WAITLISTED, Standing.OFFERED): OFFERED,
    (Standing.OFFERED, Standing.DECLINED): OFFER_DECLINED,
    (Standing.OFFERED, Standing.OFFER_EXPIRED): OFFER_EXPIRED,
}


def _registration(old: dict[str, Any] | None, new: dict[str, Any]) -> Notification | None:
    """A registration's move: promoted (from the waitlist, or by accepting an offer), offered a
    seat, or its offer declined or lapsed."""
    moved = move_from_images(old, new)
    if moved is None or moved.move.after is None:
        return None
    event_type = _MOVES.get(moved.move.standings)
    if event_type is None:
        return None
    after = moved.move.after
    if event_type == PROMOTED:
        data: dict[str, Any] = {"requestId": after.freed_by or ""}
        if moved.move.standings[0] is Standing.OFFERED:
            data["acceptedOffer"] = True
        key, timestamp = f"{after.freed_by or ''}:{moved.event_id}:{after.user_id}", after.confirmed_at
    elif event_type == OFFERED:
        data = {"requestId": after.freed_by or "", "expiresAt": after.offer_expires_at}
        key, timestamp = f"{after.freed_by or ''}:{moved.event_id}:{after.user_id}", after.offered_at
    else:
        data = {"requestId": after.ended_by or "", "expiresAt": after.offer_expires_at}
        key, timestamp = f"{moved.event_id}:{after.user_id}:{after.offer_expires_at}", after.ended_at
    data = {"eventId": moved.event_id, "userId": after.user_id, **data, **moved.stamp.counts}
    notification_key = notification_id(f"{event_type}:{key}")
    return Notification(notification_key, event_type, timestamp or "", data, moved.stamp.event_owner)


def _import(old: dict[str, Any] | None, new: dict[str, Any]) -> Notification | None:
    record = completed_now(old, new)
    if record is None or record.dry_run:  # a dry run registers nobody: nothing for subscribers
        return None
    data: dict[str, Any] = {
        "importId": record.import_id,
        "eventId": record.event_id,
        "total": record.total,
        "valid": record.valid,
        "invalid": record.invalid,
        "enqueued": record.enqueued,
        "decided": record.decided,
        "confirmed": record.confirmed,
        "waitlisted": record.waitlisted,
        "rejected": record.rejected,
        "alreadyRegistered": record.already_registered,
    }
    timestamp = record.completed_at or record.updated_at
    key = notification_id(f"{IMPORT_COMPLETED}:{record.import_id}")
    return Notification(key, IMPORT_COMPLETED, timestamp, data, record.owner_id)
