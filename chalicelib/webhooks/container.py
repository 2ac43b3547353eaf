"""The webhooks' composition root, built lazily once per process; tests swap in fakes (`use`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.adapters.aws import client
from chalicelib.adapters.webhooks import (
    DynamoDeliveryRepository,
    DynamoSubscriptionRepository,
    HttpSender,
    SocketResolver,
    SqsDeliveryQueue,
    SystemRandomness,
)
from chalicelib.config import Settings, settings
from chalicelib.system import SystemClock, UuidGenerator
from chalicelib.webhooks.schedule import parse_schedule
from chalicelib.webhooks.service import Dispatcher, Relay, UrlGuard, WebhookService


@dataclass
class WebhooksContainer:
    settings: Settings
    service: WebhookService
    relay: Relay
    dispatcher: Dispatcher


_current: WebhooksContainer | None = None


def build_aws(config: Settings, dynamodb: Any = None, sqs: Any = None) -> WebhooksContainer:
    """The AWS-backed wiring (clients may be passed in, e.g. by tests on the emulators)."""
    dynamodb, sqs = dynamodb or client("dynamodb"), sqs or client("sqs")
    clock, randomness = SystemClock(), SystemRandomness()
    subscriptions = DynamoSubscriptionRepository(dynamodb, config.table_name)
    deliveries = DynamoDeliveryRepository(dynamodb, config.table_name, clock)
    queue = SqsDeliveryQueue(sqs, config.webhooks_queue_url, config.webhooks_dlq_url)
    guard = UrlGuard(SocketResolver(), config.allow_loopback_webhooks)
    return WebhooksContainer(
        settings=config,
        service=WebhookService(subscriptions, deliveries, queue, guard, clock, UuidGenerator(), randomness),
        relay=Relay(subscriptions, deliveries, queue, clock),
        dispatcher=Dispatcher(
            subscriptions,
            deliveries,
            queue,
            guard,
            HttpSender(),
            clock,
            randomness,
            parse_schedule(config.webhook_retry_schedule),
            config.webhook_disable_after_failures,
        ),
    )


def webhooks() -> WebhooksContainer:
    global _current
    if _current is None:
        _current = build_aws(settings())
    return _current


def use(replacement: WebhooksContainer | None) -> None:
    """Swap the container (tests); None resets to the AWS-backed one on next use."""
    global _current
    _current = replacement
