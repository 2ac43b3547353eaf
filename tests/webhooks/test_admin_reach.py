"""An all-events subscription (an admin's) reaches other organizers' events only while its owner
is still an admin: checked at each delivery, against the user pool, not fixed at creation."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from chalicelib.webhooks.directory import CognitoGroupDirectory
from chalicelib.webhooks.domain import HttpResult, Subscription
from chalicelib.webhooks.memory import MemoryGroupDirectory
from chalicelib.webhooks.notifications import Notification
from tests.webhooks.conftest import memory_webhooks


class Receiving:
    timeout = 1.0

    def __init__(self) -> None:
        self.posted: list[str] = []

    def post(self, target, address, headers, body):
        self.posted.append(target)
        return HttpResult(200, 1, None)


def all_events(owner: str) -> Subscription:
    return Subscription(
        f"wh-{owner}",
        f"https://hooks.example.com/{owner}",
        ("registration.promoted",),
        True,
        "whsec_c2VjcmV0",
        "c",
        "c",
        owner_id=owner,
        covers_all=True,
    )


def promoted(event_owner: str, key: str) -> Notification:
    body = {"eventId": f"ev-{event_owner}", "userId": "u1"}
    return Notification(f"msg_{key}", "registration.promoted", "2026-01-01T00:00:00Z", body, event_owner)


def deliver(hooks, notification: Notification) -> list[str]:
    queued = hooks.container.relay.relay(notification)
    return [hooks.container.dispatcher.dispatch(message) for message, _ in hooks.queue.sent[-len(queued) :]]


def test_an_admin_removed_from_admins_stops_hearing_about_other_organizers_events():
    sender = Receiving()
    hooks = memory_webhooks(sender=sender)
    directory = MemoryGroupDirectory({"root": frozenset({"admins"})})
    hooks.container.dispatcher.directory = directory
    hooks.subscriptions.add(all_events("root"), 25)

    assert deliver(hooks, promoted("olga", "1")) == ["delivered"]
    directory.groups["root"] = frozenset({"organizers"})  # removed from admins in the pool
    assert deliver(hooks, promoted("olga", "2")) == ["skipped"]
    assert deliver(hooks, promoted("root", "3")) == ["delivered"], "their own events still reach them"
    skipped = [d for d in hooks.deliveries.items.values() if d.message_id == "msg_2"]
    assert skipped[0].status == "failed" and "no longer an admin" in skipped[0].attempts[0]["error"]
    assert len(sender.posted) == 2


def test_a_directory_that_does_not_know_the_owner_leaves_the_reach_as_it_was():
    hooks = memory_webhooks(sender=Receiving())
    hooks.subscriptions.add(all_events("root"), 25)
    assert deliver(hooks, promoted("olga", "1")) == ["delivered"]


@pytest.fixture
def pool():
    with mock_aws():
        client = boto3.client("cognito-idp", region_name="us-east-1")
        pool_id = client.create_user_pool(PoolName="users")["UserPool"]["Id"]
        client.create_group(GroupName="admins", UserPoolId=pool_id)
        client.admin_create_user(UserPoolId=pool_id, Username="root")
        client.admin_add_user_to_group(UserPoolId=pool_id, Username="root", GroupName="admins")
        yield client, pool_id


def test_the_user_pool_says_who_is_an_admin_now_and_answers_are_kept_a_minute(pool):
    client, pool_id = pool
    now = [0.0]
    directory = CognitoGroupDirectory(client, pool_id, clock=lambda: now[0])
    assert directory.groups_of("root") == frozenset({"admins"})
    client.admin_remove_user_from_group(UserPoolId=pool_id, Username="root", GroupName="admins")
    assert directory.groups_of("root") == frozenset({"admins"}), "cached"
    now[0] = 61.0
    assert directory.groups_of("root") == frozenset()
    assert directory.groups_of("nobody") == frozenset(), "a user the pool does not have: no groups"
