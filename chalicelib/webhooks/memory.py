"""In-memory webhook adapters with the DynamoDB ones' contract (fast API and unit tests)."""

from __future__ import annotations

import builtins
import threading
from dataclasses import replace
from typing import Any

from chalicelib.shared.cursor import Position
from chalicelib.shared.problems import InvalidCursor
from chalicelib.webhooks.domain import Delivery, Subscription
from chalicelib.webhooks.ports import SubscriptionLimitReached

_FIELDS = {
    "url": "url",
    "events": "events",
    "enabled": "enabled",
    "description": "description",
    "secret": "secret",
    "previousSecret": "previous_secret",
    "previousSecretExpires": "previous_secret_expires",
    "consecutiveFailures": "consecutive_failures",
    "disabledReason": "disabled_reason",
    "updatedAt": "updated_at",
}


def _page(rows: list[Any], sort_key: Any, limit: int, after: Position | None) -> tuple[list[Any], Any]:
    keys = [sort_key(r) for r in rows]
    start = 0
    if after is not None:
        if "key" not in after:
            raise InvalidCursor("The cursor belongs to another listing.")
        start = next((i for i, k in enumerate(keys) if k == after["key"]), len(keys)) + 1
    chunk = rows[start : start + limit]
    more = start + limit < len(rows)
    return chunk, ({"key": sort_key(chunk[-1])} if more and chunk else None)


class MemorySubscriptionRepository:
    def __init__(self) -> None:
        self.items: dict[str, Subscription] = {}
        self._lock = threading.Lock()

    def add(self, subscription: Subscription, limit: int) -> None:
        with self._lock:
            owned = [s for s in self.items.values() if s.owner_id == subscription.owner_id]
            if len(owned) >= limit:
                raise SubscriptionLimitReached(subscription.owner_id)
            self.items[subscription.webhook_id] = subscription

    def get(self, webhook_id: str) -> Subscription | None:
        return self.items.get(webhook_id)

    def list(
        self, owner_id: str | None, limit: int, after: Position | None
    ) -> tuple[list[Subscription], Position | None]:
        mine = [s for s in self.items.values() if owner_id is None or s.owner_id == owner_id]
        rows = sorted(mine, key=lambda s: (s.created_at, s.webhook_id))
        found, position = _page(rows, lambda s: f"{s.created_at}#{s.webhook_id}", limit, after)
        return [_without_secrets(s) for s in found], position

    def reaching(self, owner_id: str) -> builtins.list[Subscription]:
        found = [s for s in self.items.values() if s.covers_all or (owner_id and s.owner_id == owner_id)]
        return [_without_secrets(s) for s in found]

    def all(self) -> builtins.list[Subscription]:
        return [_without_secrets(s) for s in self.items.values()]

    def update(self, webhook_id: str, fields: dict[str, Any]) -> Subscription | None:
        with self._lock:
            current = self.items.get(webhook_id)
            if current is None:
                return None
            changes = {_FIELDS[n]: v for n, v in fields.items()}
            if "events" in changes:
                changes["events"] = tuple(changes["events"])
            for name, default in (("consecutive_failures", 0), ("previous_secret_expires", 0)):
                if name in changes and changes[name] is None:
                    changes[name] = default
            self.items[webhook_id] = replace(current, **changes)
            return self.items[webhook_id]

    def delete(self, webhook_id: str) -> bool:
        with self._lock:
            return self.items.pop(webhook_id, None) is not None

    def count_failure(self, webhook_id: str) -> int:
        with self._lock:
            current = self.items.get(webhook_id)
            if current is None:
                return 0
            self.items[webhook_id] = replace(current, consecutive_failures=current.consecutive_failures + 1)
            return current.consecutive_failures + 1


class MemoryDeliveryRepository:
    def __init__(self) -> None:
        self.items: dict[str, Delivery] = {}
        self._lock = threading.Lock()

    def create(self, delivery: Delivery) -> bool:
        with self._lock:
            if delivery.delivery_id in self.items:
                return False
            self.items[delivery.delivery_id] = delivery
            return True

    def get(self, delivery_id: str) -> Delivery | None:
        return self.items.get(delivery_id)

    def list_for(
        self, webhook_id: str, limit: int, after: Position | None
    ) -> tuple[list[Delivery], Position | None]:
        rows = [d for d in self.items.values() if d.webhook_id == webhook_id]
        rows.sort(key=lambda d: (d.created_at, d.delivery_id), reverse=True)
        return _page(rows, lambda d: f"{d.created_at}#{d.delivery_id}", limit, after)

    def record_attempt(
        self, delivery_id: str, attempt: dict[str, Any], status: str, next_attempt_at: str | None, now: str
    ) -> bool:
        with self._lock:
            current = self.items[delivery_id]
            if len(current.attempts) != attempt["attempt"] - 1:
                return False
            self.items[delivery_id] = replace(
                current,
                attempts=(*current.attempts, dict(attempt)),
                status=status,
                next_attempt_at=next_attempt_at,
                updated_at=now,
            )
            return True

    def reopen(self, delivery_id: str, now: str) -> bool:
        with self._lock:
            current = self.items[delivery_id]
            if current.status not in ("delivered", "failed"):
                return False
            self.items[delivery_id] = replace(current, status="pending", next_attempt_at=now, updated_at=now)
            return True


class MemoryDeliveryQueue:
    def __init__(self) -> None:
        self.sent: list[tuple[dict[str, Any], int]] = []
        self.dead: list[tuple[dict[str, Any], str]] = []

    def send(self, message: dict[str, Any], delay_seconds: int = 0) -> None:
        self.sent.append((dict(message), delay_seconds))

    def dead_letter(self, message: dict[str, Any], reason: str) -> None:
        self.dead.append((dict(message), reason))


class MemoryParkedChanges:
    def __init__(self) -> None:
        self.parked: list[dict[str, Any]] = []

    def park(self, change: dict[str, Any]) -> None:
        self.parked.append(dict(change))


class StaticResolver:
    """Resolves names from a table (tests); unknown names do not resolve."""

    def __init__(self, table: dict[str, list[str]] | None = None) -> None:
        self.table = table or {}

    def resolve(self, host: str, port: int) -> list[str]:
        if host not in self.table:
            raise OSError(f"{host} does not resolve")
        return self.table[host]


def _without_secrets(subscription: Subscription) -> Subscription:
    return replace(subscription, secret="", previous_secret=None)


class MemoryGroupDirectory:
    """Groups by subject as a test sets them; None for a subject it was not told about (the local
    stack's tokens carry whatever groups they were minted with: there is no pool to ask)."""

    def __init__(self, groups: dict[str, frozenset[str]] | None = None) -> None:
        self.groups = dict(groups or {})

    def groups_of(self, subject: str) -> frozenset[str] | None:
        return self.groups.get(subject)
