"""SubscriptionRepository and DeliveryRepository: the in-memory fakes and DynamoDB Local agree."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from chalicelib.webhooks.domain import Delivery, Subscription
from chalicelib.webhooks.dynamodb import DynamoDeliveryRepository, DynamoSubscriptionRepository
from chalicelib.webhooks.memory import (
    MemoryDeliveryQueue,
    MemoryDeliveryRepository,
    MemorySubscriptionRepository,
)
from chalicelib.webhooks.ports import SubscriptionLimitReached
from chalicelib.webhooks.sealing import LocalKeySealer
from chalicelib.webhooks.sqs import SqsDeliveryQueue
from tests.contracts.conftest import unique
from tests.fakes import FixedClock


@pytest.fixture(params=["memory", "dynamodb"])
def stores(request):
    if request.param == "memory":
        return MemorySubscriptionRepository(), MemoryDeliveryRepository()
    real = request.getfixturevalue("real")
    for old in DynamoSubscriptionRepository(real.dynamodb, real.table).all():  # a listing counts all
        DynamoSubscriptionRepository(real.dynamodb, real.table).delete(old.webhook_id)
    return (
        DynamoSubscriptionRepository(real.dynamodb, real.table, LocalKeySealer(bytes(range(32)))),
        DynamoDeliveryRepository(real.dynamodb, real.table, FixedClock()),
    )


LIMIT = 25  # subscriptions per owner, as the service asks


def subscription(
    created_at: str = "2026-01-01T00:00:00Z", owner_id: str | None = None, covers_all: bool = False
) -> Subscription:
    return Subscription(
        webhook_id=unique("wh"),
        url="https://hooks.example.com/in",
        events=("registration.promoted",),
        enabled=True,
        secret="whsec_c2VjcmV0",
        created_at=created_at,
        updated_at=created_at,
        owner_id=owner_id or unique("owner"),
        covers_all=covers_all,
    )


def delivery(webhook_id: str, created_at: str) -> Delivery:
    return Delivery(
        delivery_id=unique("dlv"),
        webhook_id=webhook_id,
        message_id=unique("msg"),
        event_type="registration.promoted",
        body='{"id":"x"}',
        status="pending",
        created_at=created_at,
        updated_at=created_at,
    )


def attempt(number: int, status_code: int | None) -> dict:
    return {"attempt": number, "attemptedAt": "t", "statusCode": status_code, "latencyMs": 3, "error": None}


def test_subscriptions_add_get_update_delete(stores):
    subscriptions, _ = stores
    sub = subscription()
    subscriptions.add(sub, LIMIT)
    assert subscriptions.get(sub.webhook_id) == sub
    updated = subscriptions.update(
        sub.webhook_id, {"enabled": False, "disabledReason": "gone", "updatedAt": "u"}
    )
    assert updated == replace(sub, enabled=False, disabled_reason="gone", updated_at="u")
    assert subscriptions.get(sub.webhook_id) == updated
    cleared = subscriptions.update(sub.webhook_id, {"disabledReason": None, "events": ["import.completed"]})
    assert (cleared.disabled_reason, cleared.events) == (None, ("import.completed",))
    assert subscriptions.update(unique("wh"), {"enabled": True}) is None
    assert subscriptions.delete(sub.webhook_id)
    assert not subscriptions.delete(sub.webhook_id)
    assert subscriptions.get(sub.webhook_id) is None


def test_subscriptions_list_in_creation_order_across_pages(stores):
    subscriptions, _ = stores
    owner = unique("owner")
    made = [subscription(f"2026-01-0{day}T00:00:00Z", owner) for day in (3, 1, 2)]
    for sub in [*made, subscription(owner_id=unique("someone-else"))]:
        subscriptions.add(sub, LIMIT)
    seen, after = [], None
    while True:
        page, after = subscriptions.list(owner, 2, after)
        seen += [s.webhook_id for s in page]
        if after is None:
            break
    expected = [s.webhook_id for s in sorted(made, key=lambda s: s.created_at)]
    assert seen == expected
    everyone = {s.webhook_id for s in subscriptions.all()}
    assert set(expected) <= everyone
    listed_for_admins = []
    after = None
    while True:
        page, after = subscriptions.list(None, 100, after)
        listed_for_admins += [s.webhook_id for s in page]
        if after is None:
            break
    assert set(listed_for_admins) == everyone


def test_an_owner_may_have_only_so_many_subscriptions(stores):
    subscriptions, _ = stores
    owner = unique("owner")
    made = [subscription(owner_id=owner) for _ in range(3)]
    for sub in made:
        subscriptions.add(sub, 3)
    with pytest.raises(SubscriptionLimitReached):
        subscriptions.add(subscription(owner_id=owner), 3)
    subscriptions.add(subscription(owner_id=unique("another")), 3)  # the cap is per owner
    assert subscriptions.delete(made[0].webhook_id)
    subscriptions.add(subscription(owner_id=owner), 3)  # a deleted one makes room
    assert len(subscriptions.list(owner, 10, None)[0]) == 3


def test_the_subscriptions_reaching_an_owner_are_theirs_and_those_covering_every_event(stores):
    subscriptions, _ = stores
    owner, other = unique("owner"), unique("other")
    mine = subscription(owner_id=owner)
    theirs = subscription(owner_id=other)
    admins = subscription(owner_id=unique("admin"), covers_all=True)
    for sub in (mine, theirs, admins):
        subscriptions.add(sub, LIMIT)
    reached = {s.webhook_id for s in subscriptions.reaching(owner)}
    assert {mine.webhook_id, admins.webhook_id} <= reached
    assert theirs.webhook_id not in reached
    assert all(s.secret == "" for s in subscriptions.reaching(owner))
    assert admins.webhook_id in {s.webhook_id for s in subscriptions.reaching("")}


def test_failures_are_counted_atomically(stores):
    subscriptions, _ = stores
    sub = subscription()
    subscriptions.add(sub, LIMIT)
    assert [subscriptions.count_failure(sub.webhook_id) for _ in range(3)] == [1, 2, 3]
    assert subscriptions.get(sub.webhook_id).consecutive_failures == 3
    assert subscriptions.count_failure(unique("gone")) == 0


def test_a_delivery_is_created_once_and_listed_newest_first(stores):
    _, deliveries = stores
    webhook = unique("wh")
    older, newer = delivery(webhook, "2026-01-01T00:00:00Z"), delivery(webhook, "2026-01-02T00:00:00Z")
    assert deliveries.create(older) and deliveries.create(newer)
    assert not deliveries.create(older), "a redelivered change makes no second delivery"
    assert deliveries.get(older.delivery_id) == older
    page, after = deliveries.list_for(webhook, 1, None)
    rest, end = deliveries.list_for(webhook, 1, after)
    assert [d.delivery_id for d in page + rest] == [newer.delivery_id, older.delivery_id]
    assert end is None or deliveries.list_for(webhook, 1, end)[0] == []


def test_each_attempt_is_recorded_once_in_order(stores):
    _, deliveries = stores
    made = delivery(unique("wh"), "2026-01-01T00:00:00Z")
    deliveries.create(made)
    assert deliveries.record_attempt(made.delivery_id, attempt(1, 500), "pending", "next", "u1")
    assert not deliveries.record_attempt(made.delivery_id, attempt(1, 500), "pending", "next", "u1")
    assert not deliveries.record_attempt(made.delivery_id, attempt(3, 200), "delivered", None, "u2")
    assert deliveries.record_attempt(made.delivery_id, attempt(2, 200), "delivered", None, "u2")
    stored = deliveries.get(made.delivery_id)
    assert [a["statusCode"] for a in stored.attempts] == [500, 200]
    assert (stored.status, stored.updated_at) == ("delivered", "u2")


def test_only_a_finished_delivery_can_be_reopened(stores):
    _, deliveries = stores
    made = delivery(unique("wh"), "2026-01-01T00:00:00Z")
    deliveries.create(made)
    assert not deliveries.reopen(made.delivery_id, "now"), "still pending"
    deliveries.record_attempt(made.delivery_id, attempt(1, 410), "failed", None, "u")
    assert deliveries.reopen(made.delivery_id, "now")
    assert deliveries.get(made.delivery_id).status == "pending"


@pytest.fixture(params=["memory", "sqs"])
def delivery_queue(request):
    """The outbox's hand-off: what the relay queues for the dispatcher, and the dead letters."""
    if request.param == "memory":
        queue = MemoryDeliveryQueue()
        return queue, lambda: [m for m, _ in queue.sent], lambda: [m for m, _ in queue.dead]
    real = request.getfixturevalue("real")
    url, dlq = (real.sqs.create_queue(QueueName=unique(name))["QueueUrl"] for name in ("hooks", "hooks-dlq"))

    def bodies(queue_url: str) -> list[dict]:
        found = real.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in found]

    return SqsDeliveryQueue(real.sqs, url, dlq), lambda: bodies(url), lambda: bodies(dlq)


def test_the_delivery_queue_carries_messages_and_dead_letters(delivery_queue):
    queue, sent, dead = delivery_queue
    queue.send({"deliveryId": "d1", "attempt": 1})
    queue.dead_letter({"deliveryId": "d2", "attempt": 9}, "gave up after 9 attempts")
    assert sent() == [{"deliveryId": "d1", "attempt": 1}]
    assert dead() == [{"deliveryId": "d2", "attempt": 9}]


def test_the_table_never_holds_a_signing_secret_in_the_clear(real):
    """Sealed on the way in (add and update), opened on the way out."""
    repository = DynamoSubscriptionRepository(real.dynamodb, real.table, LocalKeySealer(bytes(range(32))))
    created = subscription()
    repository.add(created, LIMIT)
    repository.update(created.webhook_id, {"secret": "whsec_bmV3", "previousSecret": created.secret})
    raw = real.dynamodb.get_item(
        TableName=real.table, Key={"PK": {"S": f"WEBHOOK#{created.webhook_id}"}, "SK": {"S": "META"}}
    )
    stored = json.dumps(raw["Item"])
    assert "whsec_" not in stored and "local:v1:" in stored
    found = repository.get(created.webhook_id)
    assert found is not None and (found.secret, found.previous_secret) == ("whsec_bmV3", created.secret)


def test_listings_leave_the_secrets_out_and_only_get_opens_them(stores):
    subscriptions, _ = stores
    added = replace(subscription(), previous_secret="whsec_b2xk", previous_secret_expires=2_000_000_000)
    subscriptions.add(added, LIMIT)
    listed = [s for s in subscriptions.all() if s.webhook_id == added.webhook_id]
    paged = [s for s in subscriptions.list(added.owner_id, 100, None)[0] if s.webhook_id == added.webhook_id]
    assert listed == paged == [replace(added, secret="", previous_secret=None)]
    assert subscriptions.get(added.webhook_id) == added


def test_a_listing_never_asks_the_sealer_to_open_a_secret(real):
    class Counting(LocalKeySealer):
        opened = 0

        def open(self, sealed: str, webhook_id: str) -> str:
            Counting.opened += 1
            return super().open(sealed, webhook_id)

    subscriptions = DynamoSubscriptionRepository(real.dynamodb, real.table, Counting(bytes(range(32))))
    subscriptions.add(subscription(), LIMIT)
    subscriptions.all()
    subscriptions.list(None, 10, None)
    subscriptions.reaching("")
    assert Counting.opened == 0


def test_a_delivery_remembers_whether_it_came_through_an_admins_reach(stores):
    _, deliveries = stores
    made = replace(delivery(unique("wh"), "2026-01-01T00:00:00Z"), through_admin_reach=True)
    assert deliveries.create(made)
    assert deliveries.get(made.delivery_id) == made
    plain = delivery(unique("wh"), "2026-01-01T00:00:00Z")
    deliveries.create(plain)
    assert deliveries.get(plain.delivery_id).through_admin_reach is False
