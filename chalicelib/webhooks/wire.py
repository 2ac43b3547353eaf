"""Webhooks on the wire: what the API accepts (strict, unknown fields refused) and how a
subscription (never its secret) and a delivery are shown."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StrictBool, StrictStr

from chalicelib.shared.wire import Shown, WireModel
from chalicelib.webhooks.domain import Delivery, Subscription
from chalicelib.webhooks.notifications import EVENT_TYPES


def _event_types(values: list[str]) -> list[str]:
    unknown = [v for v in values if v not in EVENT_TYPES]
    if unknown:
        raise ValueError(f"unknown event type(s) {', '.join(unknown)}; known: {', '.join(EVENT_TYPES)}")
    return list(dict.fromkeys(values))  # keep order, drop repeats


EventTypes = Annotated[list[StrictStr], Field(min_length=1, max_length=len(EVENT_TYPES) * 2)]
Url = Annotated[StrictStr, Field(min_length=1, max_length=2048, json_schema_extra={"format": "uri"})]
Description = Annotated[StrictStr, Field(max_length=500)]


class WebhookCreate(WireModel):
    url: Url
    events: Annotated[EventTypes, AfterValidator(_event_types)]
    description: Description = ""


class WebhookUpdate(WireModel):
    url: Url | None = None
    events: Annotated[EventTypes, AfterValidator(_event_types)] | None = None
    enabled: StrictBool | None = None
    description: Description | None = None


class WebhookShown(Shown):
    """A subscription: never its secret (only creating or rotating it shows the secret, once)."""

    webhookId: str
    url: str
    events: list[str]
    enabled: bool
    description: str
    disabledReason: str | None
    ownerId: str | None
    coversAllEvents: bool
    createdAt: str
    updatedAt: str


class WebhookWithSecret(WebhookShown):
    secret: str  # `whsec_...`: verifies the `webhook-signature` header (Standard Webhooks)


class WebhookPage(Shown):
    items: list[WebhookShown]
    nextCursor: str | None


class AttemptShown(Shown):
    attempt: int
    attemptedAt: str
    statusCode: int | None  # None: no HTTP answer (refused, timed out, URL refused)
    latencyMs: int
    error: str | None
    nextAttemptAt: str | None


class DeliveryShown(Shown):
    deliveryId: str
    webhookId: str
    messageId: str
    eventType: str
    status: Literal["pending", "delivered", "failed"]
    createdAt: str
    updatedAt: str
    nextAttemptAt: str | None
    attempts: list[AttemptShown]
    payload: dict[str, Any]


class DeliveryPage(Shown):
    items: list[DeliveryShown]
    nextCursor: str | None


WEBHOOK_EXAMPLE = {
    "url": "https://hooks.example.org/turnstile",
    "events": ["registration.promoted"],
    "description": "seat alerts",
}


def delivery_json(delivery: Delivery) -> dict[str, Any]:
    return {
        "deliveryId": delivery.delivery_id,
        "webhookId": delivery.webhook_id,
        "messageId": delivery.message_id,
        "eventType": delivery.event_type,
        "status": delivery.status,
        "createdAt": delivery.created_at,
        "updatedAt": delivery.updated_at,
        "nextAttemptAt": delivery.next_attempt_at if delivery.status == "pending" else None,
        "attempts": [dict(a) for a in delivery.attempts],
        "payload": json.loads(delivery.body),
    }


def subscription_json(subscription: Subscription) -> dict[str, Any]:
    """A subscription on the wire: never its secret."""
    return {
        "webhookId": subscription.webhook_id,
        "url": subscription.url,
        "events": list(subscription.events),
        "enabled": subscription.enabled,
        "description": subscription.description,
        "disabledReason": subscription.disabled_reason,
        "ownerId": subscription.owner_id or None,
        "coversAllEvents": subscription.covers_all,
        "createdAt": subscription.created_at,
        "updatedAt": subscription.updated_at,
    }
