"""What a webhook subscription and a delivery are (values only; pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Subscription:
    webhook_id: str
    url: str
    events: tuple[str, ...]
    enabled: bool
    secret: str
    created_at: str
    updated_at: str
    description: str = ""
    previous_secret: str | None = None
    previous_secret_expires: int = 0  # epoch seconds; the previous secret signs until then
    consecutive_failures: int = 0
    disabled_reason: str | None = None  # "gone" (410), "failing" (auto), None (by the owner)
    owner_id: str = ""  # who created it: they (and admins) manage it
    covers_all: bool = False  # hears about every event (an admin's), not only its owner's

    def signing_secrets(self, now: int) -> list[str]:
        secrets = [self.secret]
        if self.previous_secret and now < self.previous_secret_expires:
            secrets.append(self.previous_secret)
        return secrets


@dataclass(frozen=True)
class Delivery:
    delivery_id: str
    webhook_id: str
    message_id: str  # the notification id, sent as `webhook-id`
    event_type: str
    body: str  # the exact bytes every attempt sends
    status: str  # pending | delivered | failed
    created_at: str
    updated_at: str
    attempts: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    next_attempt_at: str | None = None
    # Reached its subscription only because that covers every event (an admin's), not as the
    # event owner's: delivered only while the subscription's owner is still an admin.
    through_admin_reach: bool = False


@dataclass(frozen=True)
class HttpResult:
    status_code: int | None  # None: no HTTP answer (connection refused, timeout, refused URL)
    latency_ms: int
    error: str | None = None
