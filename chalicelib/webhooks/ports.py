"""What the webhook services need from the world: storage, the queue, DNS and HTTP."""

from __future__ import annotations

import builtins
from typing import Any, Protocol

from chalicelib.shared.cursor import Position
from chalicelib.webhooks.domain import Delivery, HttpResult, Subscription


class SubscriptionLimitReached(Exception):
    """The owner has as many subscriptions as one owner may have."""


class SubscriptionRepository(Protocol):
    def add(self, subscription: Subscription, limit: int) -> None:
        """Store a new subscription, unless its owner has `limit` already (raises
        SubscriptionLimitReached); the count and the subscription change together."""
        ...

    def get(self, webhook_id: str) -> Subscription | None: ...

    def list(
        self, owner_id: str | None, limit: int, after: Position | None
    ) -> tuple[list[Subscription], Position | None]:
        """A page of the owner's subscriptions (None: everyone's), without their secrets (empty):
        listings never open a sealed secret; only `get` does, for the one subscription a delivery
        is signed with."""
        ...

    def reaching(self, owner_id: str) -> builtins.list[Subscription]:
        """The subscriptions that may hear about an event `owner_id` owns: the owner's own and
        those that cover every event, found by key, without their secrets (as `list`)."""
        ...

    def all(self) -> builtins.list[Subscription]:
        """Every subscription, without their secrets (as `list`)."""
        ...

    def update(self, webhook_id: str, fields: dict[str, Any]) -> Subscription | None:
        """Set the given attributes (wire names); None when the subscription does not exist."""
        ...

    def delete(self, webhook_id: str) -> bool: ...

    def count_failure(self, webhook_id: str) -> int:
        """Add one to `consecutiveFailures` atomically and return the new value (0: gone)."""
        ...


class DeliveryRepository(Protocol):
    def create(self, delivery: Delivery) -> bool:
        """Store a new delivery; False when one with this id exists (a redelivered change)."""
        ...

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
        ...


class DeliveryQueue(Protocol):
    def send(self, message: dict[str, Any], delay_seconds: int = 0) -> None: ...

    def dead_letter(self, message: dict[str, Any], reason: str) -> None: ...


class ParkedChanges(Protocol):
    """Table changes the relay failed on, kept whole (as the stream gave them) for another try."""

    def park(self, change: dict[str, Any]) -> None: ...


class Resolver(Protocol):
    def resolve(self, host: str, port: int) -> list[str]:
        """The addresses `host` resolves to; raises OSError when it does not resolve."""
        ...


class Sender(Protocol):
    timeout: float  # seconds one attempt may take, all of it

    def post(self, target: Any, address: str, headers: dict[str, str], body: str) -> HttpResult:
        """POST `body` to `target` (policy.Target), connecting to `address`; never follows redirects."""
        ...


class GroupDirectory(Protocol):
    def groups_of(self, subject: str) -> frozenset[str] | None:
        """The groups `subject` is in now (the user pool's word), or None when this directory
        does not know them (then what a subscription was given at creation stands)."""
        ...
