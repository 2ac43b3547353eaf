"""What the webhook services store and call, as values and small interfaces (no I/O here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

Position = dict[str, Any]


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


@dataclass(frozen=True)
class HttpResult:
    status_code: int | None  # None: no HTTP answer (connection refused, timeout, refused URL)
    latency_ms: int
    error: str | None = None


class SubscriptionRepository(Protocol):
    def add(self, subscription: Subscription) -> None: ...

    def get(self, webhook_id: str) -> Subscription | None: ...

    def list(self, limit: int, after: Position | None) -> tuple[list[Subscription], Position | None]: ...

    def all(self) -> list[Subscription]: ...

    def update(self, webhook_id: str, fields: dict[str, Any]) -> Subscription | None:
        """Set the given attributes (wire names); None when the subscription does not exist."""

    def delete(self, webhook_id: str) -> bool: ...

    def count_failure(self, webhook_id: str) -> int:
        """Add one to `consecutiveFailures` atomically and return the new value (0: gone)."""


class DeliveryRepository(Protocol):
    def create(self, delivery: Delivery) -> bool:
        """Store a new delivery; False when one with this id exists (a redelivered change)."""

    def get(self, delivery_id: str) -> Delivery | None: ...

    def list_for(
        self, webhook_id: str, limit: int, after: Position | None
    ) -> tuple[list[Delivery], Position | None]:
        """Newest first."""

    def record_attempt(
        self, delivery_id: str, attempt: dict[str, Any], status: str, next_attempt_at: str | None, now: str
    ) -> bool:
        """Append `attempt` (its `attempt` number must be the next one) and set the status;
        False when another dispatcher recorded that attempt first."""

    def reopen(self, delivery_id: str, now: str) -> bool:
        """Manual retry: a delivered or failed delivery becomes pending; False if it is pending."""


class DeliveryQueue(Protocol):
    def send(self, message: dict[str, Any], delay_seconds: int = 0) -> None: ...

    def dead_letter(self, message: dict[str, Any], reason: str) -> None: ...


class Resolver(Protocol):
    def resolve(self, host: str, port: int) -> list[str]:
        """The addresses `host` resolves to; raises OSError when it does not resolve."""


class Sender(Protocol):
    def post(self, target: Any, address: str, headers: dict[str, str], body: str) -> HttpResult:
        """POST `body` to `target` (policy.Target), connecting to `address`; never follows redirects."""


class Clock(Protocol):
    def now(self) -> str: ...

    def epoch_seconds(self) -> int: ...


class Randomness(Protocol):
    def token_bytes(self, n: int) -> bytes: ...

    def draw(self) -> float:
        """Uniform in [0, 1) (jitter)."""


class IdGenerator(Protocol):
    def new_id(self) -> str: ...
