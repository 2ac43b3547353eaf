"""Every key of the single table, built in one place (the item types are listed in
docs/architecture.md; the table and index definitions in `resources.py`). Pure strings and
dicts: the features' `items` modules, which the pure notification code reads through, use it."""

from __future__ import annotations

from typing import Any

META = "META"  # the sort key of every item that is alone in its partition
SEATS = "SEATS"  # the sort key of an event's seat counters, beside its META item

# Index names (see resources.TABLE)
GSI1 = "GSI1"  # events by date; webhooks; a webhook's deliveries
GSI2 = "GSI2"  # events by status and date; an event's open offers
LSI1 = "LSI1"  # an event's waitlist in order (waitSeq), as stored before the joiners items
GSI3 = "GSI3"  # open waitlist offers by expiry (the offer sweep)

REGISTRATION_PREFIX = "REG#"
JOINERS_PREFIX = "WAIT#"  # an event's joiners items: its waitlist in order, a batch's joiners each
IMPORT_ERROR_PREFIX = "ERROR#"


def key(pk: str, sk: str) -> dict[str, Any]:
    """A primary key as DynamoDB attribute values."""
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def event_pk(event_id: str) -> str:
    return f"EVENT#{event_id}"


def event_key(event_id: str) -> dict[str, Any]:
    return key(event_pk(event_id), META)


def seats_key(event_id: str) -> dict[str, Any]:
    """An event's seat counters: an item of their own, in no index, so a decision rewrites them
    without rewriting the event and its index entries."""
    return key(event_pk(event_id), SEATS)


def registration_key(event_id: str, user_id: str) -> dict[str, Any]:
    return key(event_pk(event_id), f"{REGISTRATION_PREFIX}{user_id}")


def joiners_key(event_id: str, first_seq: int) -> dict[str, Any]:
    """The joiners item of the batch whose first joiner took place `first_seq` in the waitlist
    (zero-padded, so the event's joiners items sort in the waitlist's order)."""
    return key(event_pk(event_id), f"{JOINERS_PREFIX}{first_seq:015d}")


def user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def user_key(user_id: str) -> dict[str, Any]:
    return key(user_pk(user_id), META)


def request_pk(request_id: str) -> str:
    return f"REQUEST#{request_id}"


def request_key(request_id: str) -> dict[str, Any]:
    return key(request_pk(request_id), META)


def mark_key(user_id: str, event_id: str) -> dict[str, Any]:
    """A user's mark for an event: their pending command for it (one at a time)."""
    return key(user_pk(user_id), f"{REGISTRATION_PREFIX}{event_id}")


def legacy_pending_key(mark: str) -> dict[str, Any]:
    """A mark written before marks moved to the user's partition, by the hash of (event, user)
    its request id starts with (read only, while such requests live: 30 days)."""
    return key(f"PENDING#{mark}", META)


def wait_holds_key(subject: str) -> dict[str, Any]:
    """How many requests a subject holds open waiting (`Prefer: wait`)."""
    return key(f"WAITING#{subject}", META)


def idempotency_key(key_value: str) -> dict[str, Any]:
    return key(f"IDEMPOTENCY#{key_value}", META)


def import_pk(import_id: str) -> str:
    return f"IMPORT#{import_id}"


def import_key(import_id: str) -> dict[str, Any]:
    return key(import_pk(import_id), META)


def import_error_sk(row: int, index: int) -> str:
    return f"{IMPORT_ERROR_PREFIX}{row:06d}#{index:02d}"


def webhook_pk(webhook_id: str) -> str:
    return f"WEBHOOK#{webhook_id}"


def webhook_key(webhook_id: str) -> dict[str, Any]:
    return key(webhook_pk(webhook_id), META)


def webhook_owner_key(owner_id: str) -> dict[str, Any]:
    """How many subscriptions an owner has (the per-owner cap)."""
    return key(f"WEBHOOKOWNER#{owner_id}", META)


def delivery_pk(delivery_id: str) -> str:
    return f"DELIVERY#{delivery_id}"


def delivery_key(delivery_id: str) -> dict[str, Any]:
    return key(delivery_pk(delivery_id), META)


# --- index partitions --------------------------------------------------------------------------

ALL_EVENTS = "EVENTS"  # GSI1PK of every event
ALL_WEBHOOKS = "WEBHOOKS"  # GSI2PK of every subscription (an admin's listing)
EVERY_EVENT_WEBHOOKS = "WEBHOOKS#EVERY-EVENT"  # GSI3PK of the subscriptions that hear every event
OPEN_OFFERS = "OFFERS"  # GSI3PK of every open waitlist offer (GSI3SK: expiry#event#user)


def events_with_status(status: str) -> str:  # GSI2PK of an event
    return f"EVENTS#{status}"


def event_offered(event_id: str) -> str:  # GSI2PK of an offered registration
    return f"EVENTREG#{event_id}#offered"


def open_offer_sk(expires_at: str, event_id: str, user_id: str) -> str:  # GSI3SK of an open offer
    return f"{expires_at}#{event_id}#{user_id}"


def owner_webhooks(owner_id: str) -> str:  # GSI1PK of a subscription: its owner's
    return f"WEBHOOKS#OWNER#{owner_id}"


def webhook_deliveries(webhook_id: str) -> str:  # GSI1PK of a delivery
    return f"WEBHOOK#{webhook_id}#DELIVERIES"
