"""Webhook use cases: manage subscriptions (API), relay notifications, dispatch deliveries.

Retry scheduling, and why it holds no Lambda: every attempt is its own SQS message. After a
failed attempt the dispatcher sends the next attempt's message with `DelaySeconds` (SQS allows
at most 900 s) and lets the current one be deleted. A wait longer than 15 minutes carries a
`notBefore` time: a message that arrives early is sent on again with the remaining delay (a
"hop", one short invocation per 15 minutes of waiting). We do not stretch the visibility
timeout (ChangeMessageVisibility) instead, because every receive counts toward the queue's
redrive `maxReceiveCount` (5), so a day-long schedule would push healthy messages into the DLQ,
and the visibility clock of a batch is shared by its other records. So the queue's own redrive
only catches dispatcher crashes, while our schedule decides the attempts; after the last attempt
the dispatcher itself sends the message to the DLQ and marks the delivery failed.

At-least-once, with the same `webhook-id` every time: a message names the attempt it performs;
a delivery that is no longer pending or already has that attempt drops it as a duplicate. The
next attempt is queued before the current one is recorded, so a crash between the two repeats
an attempt (a duplicate the receiver drops by id) rather than losing the retry.
"""

from __future__ import annotations

import builtins
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalicelib.shared.caller import ADMINS, Caller
from chalicelib.shared.clock import Clock, IdGenerator, Randomness
from chalicelib.shared.cursor import Position
from chalicelib.shared.problems import Conflict, FieldError, NotFound, ValidationFailed
from chalicelib.webhooks import policy, signing
from chalicelib.webhooks.domain import Delivery, HttpResult, Subscription
from chalicelib.webhooks.notifications import Notification, reaches, wants
from chalicelib.webhooks.ports import (
    DeliveryQueue,
    DeliveryRepository,
    GroupDirectory,
    Resolver,
    Sender,
    SubscriptionLimitReached,
    SubscriptionRepository,
)
from chalicelib.webhooks.schedule import next_delay

logger = logging.getLogger("turnstile.webhooks")

ROTATION_OVERLAP_SECONDS = 24 * 3600
WEBHOOKS_PER_OWNER = 25  # subscriptions one owner may have: each is read for every notification
MAX_SQS_DELAY = 900
USER_AGENT = "Turnstile-Webhooks/1"


def delivery_id_for(message_id: str, webhook_id: str) -> str:
    return "dlv_" + hashlib.sha256(f"{message_id}:{webhook_id}".encode()).hexdigest()[:32]


def iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class UrlGuard:
    """Applies policy.py to a URL, resolving its host (at subscription time and every attempt)."""

    resolver: Resolver
    allow_loopback: bool
    allow_http: bool = False  # deployed stages: https only; the local stack allows http

    def check(self, url: str) -> tuple[policy.Target, str]:
        """(target, the address to connect to); raises policy.UrlRefused."""
        target = policy.parse_target(url)
        if target.scheme != "https" and not self.allow_http:
            raise policy.UrlRefused("must be an https URL")
        literal = policy.literal_address(target.host)
        if literal is not None:
            addresses = [str(literal)]
        else:
            try:
                addresses = self.resolver.resolve(target.host, target.port)
            except (OSError, UnicodeError):  # `a..b` is a UnicodeError (an empty IDNA label)
                raise policy.UrlRefused("does not resolve") from None
        policy.check_addresses(addresses, self.allow_loopback)
        return target, addresses[0]


@dataclass
class WebhookService:
    """The API's use cases."""

    subscriptions: SubscriptionRepository
    deliveries: DeliveryRepository
    queue: DeliveryQueue
    guard: UrlGuard
    clock: Clock
    ids: IdGenerator
    randomness: Randomness

    def create(
        self, caller: Caller, url: str, events: list[str], description: str = ""
    ) -> tuple[Subscription, str]:
        owner = caller.require_organizer()
        self._check_url(url)
        now = self.clock.now()
        secret = self._new_secret()
        subscription = Subscription(
            webhook_id="wh_" + self.ids.new_id(),
            url=url,
            events=tuple(events),
            enabled=True,
            secret=secret,
            created_at=now,
            updated_at=now,
            description=description,
            owner_id=owner,
            covers_all=caller.is_admin,
        )
        try:
            self.subscriptions.add(subscription, WEBHOOKS_PER_OWNER)
        except SubscriptionLimitReached:
            raise Conflict(
                f"You have {WEBHOOKS_PER_OWNER} webhooks, the most one owner may have; delete one first."
            ) from None
        return subscription, secret

    def get(self, caller: Caller, webhook_id: str) -> Subscription:
        """The subscription, for its owner and admins (404 to anyone else)."""
        caller.require_organizer()
        subscription = self.subscriptions.get(webhook_id)
        if subscription is None or not caller.owns(subscription.owner_id):
            raise NotFound(f"There is no webhook '{webhook_id}'.")
        return subscription

    def list(
        self, caller: Caller, limit: int, after: Position | None
    ) -> tuple[list[Subscription], Position | None]:
        """The caller's subscriptions (an admin's: all), found by owner."""
        subject = caller.require_organizer()
        return self.subscriptions.list(None if caller.is_admin else subject, limit, after)

    def update(
        self,
        caller: Caller,
        webhook_id: str,
        url: str | None = None,
        events: builtins.list[str] | None = None,
        enabled: bool | None = None,
        description: str | None = None,
    ) -> Subscription:
        """Change what is given (None: unchanged)."""
        self.get(caller, webhook_id)
        if url is not None:
            self._check_url(url)
        fields: dict[str, Any] = {"updatedAt": self.clock.now()}
        if url is not None:
            fields["url"] = url
        if events is not None:
            fields["events"] = list(events)
        if description is not None:
            fields["description"] = description
        if enabled is not None:
            fields["enabled"] = enabled
            if enabled:  # re-enabled by its owner: a fresh start
                fields.update(consecutiveFailures=0, disabledReason=None)
        updated = self.subscriptions.update(webhook_id, fields)
        if updated is None:
            raise NotFound(f"There is no webhook '{webhook_id}'.")
        return updated

    def delete(self, caller: Caller, webhook_id: str) -> None:
        self.get(caller, webhook_id)
        if not self.subscriptions.delete(webhook_id):
            raise NotFound(f"There is no webhook '{webhook_id}'.")

    def rotate_secret(self, caller: Caller, webhook_id: str) -> tuple[Subscription, str]:
        current = self.get(caller, webhook_id)
        secret = self._new_secret()
        updated = self.subscriptions.update(
            webhook_id,
            {
                "secret": secret,
                "previousSecret": current.secret,
                "previousSecretExpires": self.clock.epoch_seconds() + ROTATION_OVERLAP_SECONDS,
                "updatedAt": self.clock.now(),
            },
        )
        if updated is None:
            raise NotFound(f"There is no webhook '{webhook_id}'.")
        return updated, secret

    def deliveries_of(
        self, caller: Caller, webhook_id: str, limit: int, after: Position | None
    ) -> tuple[builtins.list[Delivery], Position | None]:
        self.get(caller, webhook_id)
        return self.deliveries.list_for(webhook_id, limit, after)

    def delivery(self, caller: Caller, webhook_id: str, delivery_id: str) -> Delivery:
        """One delivery of the caller's subscription, with its attempts."""
        self.get(caller, webhook_id)
        return self._delivery_of(webhook_id, delivery_id)

    def _delivery_of(self, webhook_id: str, delivery_id: str) -> Delivery:
        delivery = self.deliveries.get(delivery_id)
        if delivery is None or delivery.webhook_id != webhook_id:
            raise NotFound(f"Webhook '{webhook_id}' has no delivery '{delivery_id}'.")
        return delivery

    def retry(self, caller: Caller, webhook_id: str, delivery_id: str) -> Delivery:
        subscription = self.get(caller, webhook_id)
        delivery = self._delivery_of(webhook_id, delivery_id)
        if not subscription.enabled:
            raise Conflict(f"Webhook '{webhook_id}' is disabled; enable it (PUT enabled=true) first.")
        if not self.deliveries.reopen(delivery_id, self.clock.now()):
            raise Conflict(f"Delivery '{delivery_id}' is still pending; it will be attempted.")
        attempt = len(delivery.attempts) + 1
        self.queue.send({"deliveryId": delivery_id, "attempt": attempt, "manual": True})
        reopened = self.deliveries.get(delivery_id)
        assert reopened is not None
        return reopened

    def _check_url(self, url: str) -> None:
        try:
            self.guard.check(url)
        except policy.UrlRefused as refused:
            raise ValidationFailed(
                "The webhook URL is not allowed.", [FieldError("url", str(refused))]
            ) from None

    def _new_secret(self) -> str:
        return signing.secret_from_bytes(self.randomness.token_bytes(signing.SECRET_BYTES))


@dataclass
class Relay:
    """Turns a notification into one delivery per interested subscription and queues each."""

    subscriptions: SubscriptionRepository
    deliveries: DeliveryRepository
    queue: DeliveryQueue
    clock: Clock

    def relay(
        self, notification: Notification, subscriptions: Sequence[Subscription] | None = None
    ) -> list[str]:
        """Returns the delivery ids queued. Safe to repeat for the same notification.
        `subscriptions`: those reaching the event's owner, when the caller has read them already
        (the relay reads them once per owner in a stream batch, not once per change)."""
        queued = []
        body = notification.body()
        if subscriptions is None:
            subscriptions = self.subscriptions.reaching(notification.event_owner)
        for subscription in subscriptions:
            if not subscription.enabled or not wants(subscription.events, notification.type):
                continue
            if not reaches(subscription.owner_id, subscription.covers_all, notification):
                continue
            delivery_id = delivery_id_for(notification.id, subscription.webhook_id)
            now = self.clock.now()
            delivery = Delivery(
                delivery_id=delivery_id,
                webhook_id=subscription.webhook_id,
                message_id=notification.id,
                event_type=notification.type,
                body=body,
                status="pending",
                created_at=now,
                updated_at=now,
                next_attempt_at=now,
                through_admin_reach=subscription.owner_id != notification.event_owner,
            )
            if not self.deliveries.create(delivery):
                existing = self.deliveries.get(delivery_id)
                # Already created by an earlier run of this change: hand it over again only if it
                # may never have reached the queue (no attempt yet); the dispatcher drops repeats.
                if existing is None or existing.status != "pending" or existing.attempts:
                    continue
            self.queue.send({"deliveryId": delivery_id, "attempt": 1})
            queued.append(delivery_id)
        return queued


@dataclass
class Dispatcher:
    """Performs one delivery attempt per queue message and schedules the next one."""

    subscriptions: SubscriptionRepository
    deliveries: DeliveryRepository
    queue: DeliveryQueue
    guard: UrlGuard
    sender: Sender
    clock: Clock
    randomness: Randomness
    schedule: tuple[int, ...]
    disable_after_failures: int
    directory: GroupDirectory

    def dispatch(self, message: dict[str, Any]) -> str:
        """Returns what happened (for logs and tests). Raises only on infrastructure failures."""
        if message.get("redrive"):
            message = self._reopened(message)
        delivery = self.deliveries.get(message["deliveryId"])
        attempt = int(message["attempt"])
        if delivery is None:
            return "unknown-delivery"
        if delivery.status != "pending" or len(delivery.attempts) >= attempt:
            return "duplicate"
        now_epoch = self.clock.epoch_seconds()
        not_before = int(message.get("notBefore", 0))
        if not_before > now_epoch:
            self.queue.send(message, min(MAX_SQS_DELAY, not_before - now_epoch))
            return "waiting"
        subscription = self.subscriptions.get(delivery.webhook_id)
        reason = self._out_of_reach(subscription, delivery)
        if reason is not None:
            self._record(delivery, attempt, HttpResult(None, 0, reason), "failed", None)
            return "skipped"
        assert subscription is not None
        result = self._attempt(subscription, delivery, now_epoch)
        if result.status_code is not None and 200 <= result.status_code < 300:
            self._record(delivery, attempt, result, "delivered", None)
            if subscription.consecutive_failures:
                self.subscriptions.update(subscription.webhook_id, {"consecutiveFailures": 0})
            return "delivered"
        if result.status_code == 410:
            self._record(delivery, attempt, result, "failed", None)
            self.subscriptions.update(
                subscription.webhook_id,
                {"enabled": False, "disabledReason": "gone", "updatedAt": self.clock.now()},
            )
            logger.warning("webhook %s answered 410 Gone: disabled", subscription.webhook_id)
            return "gone"
        delay = None if message.get("manual") else next_delay(self.schedule, attempt, self.randomness.draw())
        if delay is None:
            self._give_up(subscription, delivery, attempt, result, manual=bool(message.get("manual")))
            return "failed"
        next_message: dict[str, Any] = {"deliveryId": delivery.delivery_id, "attempt": attempt + 1}
        if delay > MAX_SQS_DELAY:
            next_message["notBefore"] = now_epoch + delay
        self.queue.send(next_message, min(delay, MAX_SQS_DELAY))  # before recording: see module doc
        self._record(delivery, attempt, result, "pending", iso(now_epoch + delay))
        return "retrying"

    def _reopened(self, message: dict[str, Any]) -> dict[str, Any]:
        """A message redriven from the dead-letter queue (`make dlq ARGS="redrive --queue
        webhooks-dlq"`): its delivery was given up, so reopen it for one more attempt, as a manual
        retry does. A delivery that is pending or delivered meanwhile is left as it is."""
        delivery = self.deliveries.get(message["deliveryId"])
        if delivery is None or delivery.status != "failed":
            return message
        if not self.deliveries.reopen(delivery.delivery_id, self.clock.now()):
            return message
        return {"deliveryId": delivery.delivery_id, "attempt": len(delivery.attempts) + 1, "manual": True}

    def _out_of_reach(self, subscription: Subscription | None, delivery: Delivery) -> str | None:
        """Why this delivery may no longer be made, if so: the subscription is gone or disabled,
        or it reached the subscription only through its owner's admin role, which the owner no
        longer has (checked now, not when the subscription was made)."""
        if subscription is None:
            return "webhook deleted"
        if not subscription.enabled:
            return "webhook disabled"
        if delivery.through_admin_reach:
            groups = self.directory.groups_of(subscription.owner_id)
            if groups is not None and ADMINS not in groups:
                return "the webhook's owner is no longer an admin"
        return None

    def defer(self, message: dict[str, Any]) -> str:
        """Put a message back on the queue untried (this invocation has no time left for it):
        not an attempt, not a failure."""
        self.queue.send(message, 0)
        return "deferred"

    def _attempt(self, subscription: Subscription, delivery: Delivery, now_epoch: int) -> HttpResult:
        try:
            target, address = self.guard.check(subscription.url)
        except policy.UrlRefused as refused:
            return HttpResult(None, 0, f"URL refused: {refused}")
        headers = signing.headers(
            subscription.signing_secrets(now_epoch), delivery.message_id, now_epoch, delivery.body
        )
        headers.update({"Content-Type": "application/json", "User-Agent": USER_AGENT})
        return self.sender.post(target, address, headers, delivery.body)

    def _give_up(
        self, subscription: Subscription, delivery: Delivery, attempt: int, result: HttpResult, manual: bool
    ) -> None:
        if not manual:
            reason = f"gave up after {attempt} attempts: {_describe(result)}"
            self.queue.dead_letter({"deliveryId": delivery.delivery_id, "attempt": attempt}, reason)
        self._record(delivery, attempt, result, "failed", None)
        if manual:
            return
        failures = self.subscriptions.count_failure(subscription.webhook_id)
        if failures >= self.disable_after_failures:
            self.subscriptions.update(
                subscription.webhook_id,
                {"enabled": False, "disabledReason": "failing", "updatedAt": self.clock.now()},
            )
            logger.warning(
                "webhook %s failed %s deliveries in a row: disabled", subscription.webhook_id, failures
            )

    def _record(
        self, delivery: Delivery, attempt: int, result: HttpResult, status: str, next_at: str | None
    ) -> None:
        now = self.clock.now()
        entry = {
            "attempt": attempt,
            "attemptedAt": now,
            "statusCode": result.status_code,
            "latencyMs": result.latency_ms,
            "error": result.error,
            "nextAttemptAt": next_at,
        }
        if not self.deliveries.record_attempt(delivery.delivery_id, entry, status, next_at, now):
            logger.info("attempt %s of %s was recorded by another dispatcher", attempt, delivery.delivery_id)


def _describe(result: HttpResult) -> str:
    return f"HTTP {result.status_code}" if result.status_code is not None else (result.error or "no answer")
