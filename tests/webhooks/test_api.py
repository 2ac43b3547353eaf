"""Every webhooks route and its errors, through chalice.test.Client on in-memory adapters."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from chalice.test import Client

from app import app
from chalicelib import bootstrap
from chalicelib.webhooks.domain import HttpResult
from chalicelib.webhooks.notifications import Notification
from tests.fakes import AsCaller
from tests.webhooks.conftest import MemoryWebhooks, memory_webhooks


class Api:
    def __init__(self, client: Client) -> None:
        self.http = AsCaller(client.http)

    def call(self, method: str, path: str, body=None, content_type: str = "application/json"):
        raw = body if isinstance(body, (str, bytes)) or body is None else json.dumps(body)
        response = getattr(self.http, method)(path, headers={"Content-Type": content_type}, body=raw or b"")
        return response.status_code, (json.loads(response.body) if response.body else None), response


class StubSender:
    timeout = 1.0

    def __init__(self, status: int = 500) -> None:
        self.status = status

    def post(self, target, address, headers, body):
        return HttpResult(self.status, 1, None if self.status < 300 else f"HTTP {self.status}")


@pytest.fixture
def fakes() -> Iterator[MemoryWebhooks]:
    wired = memory_webhooks(sender=StubSender())
    bootstrap.use(wired.container)
    yield wired
    bootstrap.use(None)


@pytest.fixture
def api(fakes) -> Iterator[Api]:
    with Client(app) as client:
        yield Api(client)


def create(api: Api, **overrides):
    body = {"url": "https://hooks.example.com/in", "events": ["registration.promoted"], **overrides}
    return api.call("post", "/webhooks", body)


def test_create_shows_the_secret_once(api):
    status, body, response = create(api, description="CRM")
    assert status == 201, body
    assert response.headers["Location"] == f"/webhooks/{body['webhookId']}"
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    assert body["events"] == ["registration.promoted"] and body["enabled"] is True
    assert (
        body["url"] == "https://hooks.example.com/in" and body["createdAt"] and body["description"] == "CRM"
    )
    status, fetched, _ = api.call("get", f"/webhooks/{body['webhookId']}")
    assert status == 200 and "secret" not in fetched
    assert fetched == {k: v for k, v in body.items() if k != "secret"}
    _, listed, _ = api.call("get", "/webhooks")
    assert [w["webhookId"] for w in listed["items"]] == [body["webhookId"]] and "secret" not in listed[
        "items"
    ][0]


def test_every_event_type_is_accepted_and_unknown_ones_are_422(api):
    types = [
        "registration.promoted",
        "registration.confirmed",
        "registration.waitlisted",
        "registration.rejected",
        "registration.cancelled",
        "import.completed",
    ]
    status, body, _ = create(api, events=types)
    assert status == 201 and body["events"] == types
    status, problem, response = create(api, events=["registration.promoted", "registration.exploded"])
    assert status == 422 and response.headers["Content-Type"] == "application/problem+json"
    assert (
        problem["errors"][0]["field"] == "events"
        and "registration.exploded" in problem["errors"][0]["message"]
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"events": ["registration.promoted"]}, "url"),
        ({"url": "https://hooks.example.com/in"}, "events"),
        ({"url": "https://hooks.example.com/in", "events": []}, "events"),
        ({"url": 5, "events": ["registration.promoted"]}, "url"),
        ({"url": "https://hooks.example.com/in", "events": ["registration.promoted"], "x": 1}, "x"),
        ({"url": "ftp://hooks.example.com/in", "events": ["registration.promoted"]}, "url"),
        ({"url": "http://internal.example.com/", "events": ["registration.promoted"]}, "url"),
        ({"url": "http://10.0.0.1/", "events": ["registration.promoted"]}, "url"),
        ({"url": "http://169.254.169.254/latest", "events": ["registration.promoted"]}, "url"),
        ({"url": "https://nowhere.invalid/", "events": ["registration.promoted"]}, "url"),
    ],
)
def test_invalid_bodies_are_422_naming_the_field(api, body, field):
    status, problem, _ = api.call("post", "/webhooks", body)
    assert status == 422, problem
    assert field in [e["field"] for e in problem["errors"]]


def test_loopback_is_refused_unless_the_deployment_allows_it(api, fakes):
    assert create(api, url="http://127.0.0.1:9/x")[0] == 201  # the fakes allow loopback (local stack)
    guard = fakes.container.webhooks.guard
    fakes.container.webhooks.guard = type(guard)(guard.resolver, allow_loopback=False, allow_http=True)
    status, problem, _ = create(api, url="http://127.0.0.1:9/x")
    assert status == 422 and "loopback" in problem["errors"][0]["message"]


def test_malformed_and_non_json_bodies(api):
    assert api.call("post", "/webhooks", "{oops")[0] == 400
    assert api.call("post", "/webhooks", "url=x", content_type="text/plain")[0] == 415
    assert api.call("post", "/webhooks", [1])[0] == 422


def test_update_changes_url_events_and_enabled(api):
    _, created, _ = create(api)
    path = f"/webhooks/{created['webhookId']}"
    status, body, _ = api.call(
        "put", path, {"url": "https://hooks.example.com/v2", "events": ["import.completed"], "enabled": False}
    )
    assert status == 200, body
    assert (body["url"], body["events"], body["enabled"]) == (
        "https://hooks.example.com/v2",
        ["import.completed"],
        False,
    )
    assert "secret" not in body
    assert api.call("get", path)[1]["enabled"] is False
    assert api.call("put", path, {"events": ["nope"]})[0] == 422
    assert api.call("put", path, {"enabled": "yes"})[0] == 422
    assert api.call("put", path, {"enabled": None})[0] == 422
    assert api.call("put", path, {"url": "http://10.0.0.1/"})[0] == 422
    assert api.call("put", "/webhooks/wh_missing", {"enabled": True})[0] == 404


def test_delete_then_404(api):
    _, created, _ = create(api)
    path = f"/webhooks/{created['webhookId']}"
    status, _, response = api.call("delete", path)
    assert status == 204 and response.body in (b"", "")
    assert api.call("get", path)[0] == 404
    assert api.call("delete", path)[0] == 404


def test_rotate_secret_returns_a_new_secret_and_keeps_the_old_one_for_a_day(api, fakes):
    _, created, _ = create(api)
    status, rotated, _ = api.call("post", f"/webhooks/{created['webhookId']}/rotate-secret")
    assert status == 200 and rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]
    stored = fakes.subscriptions.get(created["webhookId"])
    now = fakes.container.webhooks.clock.epoch_seconds()
    assert stored.signing_secrets(now) == [rotated["secret"], created["secret"]]
    assert stored.signing_secrets(now + 24 * 3600 + 1) == [rotated["secret"]]
    assert api.call("post", "/webhooks/wh_missing/rotate-secret")[0] == 404


def test_unknown_webhook_is_404_everywhere(api):
    for method, path in [
        ("get", "/webhooks/wh_missing"),
        ("get", "/webhooks/wh_missing/deliveries"),
        ("post", "/webhooks/wh_missing/deliveries/dlv_x/retry"),
    ]:
        status, problem, _ = api.call(method, path)
        assert status == 404 and problem["type"].endswith("/not-found")


def test_listing_pages_with_signed_cursors(api):
    ids = [create(api, description=str(i))[1]["webhookId"] for i in range(5)]
    seen, cursor = [], None
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        status, body, _ = api.call("get", "/webhooks" + query)
        assert status == 200 and len(body["items"]) <= 2
        seen += [w["webhookId"] for w in body["items"]]
        cursor = body["nextCursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(ids)
    assert api.call("get", "/webhooks?limit=0")[0] == 422
    assert api.call("get", "/webhooks?cursor=forged")[0] == 400
    _, first, _ = api.call("get", "/webhooks?limit=1")
    other = f"/webhooks/{ids[0]}/deliveries?cursor={first['nextCursor']}"
    assert api.call("get", other)[0] == 400  # a cursor is only good for its own listing


def _notify(fakes: MemoryWebhooks, key: str = "1") -> Notification:
    notification = Notification(
        f"msg_{key}", "registration.promoted", "2026-01-01T00:00:00Z", {"eventId": "e1", "userId": "u1"}
    )
    fakes.container.relay.relay(notification)
    return notification


def test_deliveries_list_attempts_and_retry_replays_one(api, fakes):
    _, created, _ = create(api)
    webhook_id = created["webhookId"]
    notification = _notify(fakes)
    ((message, _),) = fakes.queue.sent
    dispatcher = fakes.container.dispatcher
    assert dispatcher.dispatch(message) == "retrying"
    status, body, _ = api.call("get", f"/webhooks/{webhook_id}/deliveries")
    assert status == 200 and body["nextCursor"] is None
    (delivery,) = body["items"]
    assert delivery["status"] == "pending" and delivery["messageId"] == notification.id
    assert delivery["payload"] == {
        "id": notification.id,
        "type": notification.type,
        "timestamp": notification.timestamp,
        "data": notification.data,
    }
    (attempt,) = delivery["attempts"]
    assert attempt["statusCode"] == 500 and attempt["error"] == "HTTP 500" and attempt["latencyMs"] >= 0
    assert attempt["nextAttemptAt"] == delivery["nextAttemptAt"] is not None

    retry = f"/webhooks/{webhook_id}/deliveries/{delivery['deliveryId']}/retry"
    status, _, _ = api.call("post", retry)
    assert status == 409  # still pending: the schedule will try again itself
    handled = 1
    while handled < len(fakes.queue.sent):  # the schedule's follow-ups, each queued by the one before
        dispatcher.dispatch(fakes.queue.sent[handled][0])
        handled += 1
    assert handled == 3  # schedule "1s,2s": three attempts in all
    assert fakes.deliveries.get(delivery["deliveryId"]).status == "failed"
    assert len(fakes.queue.dead) == 1

    dispatcher.sender.status = 204
    status, replay, _ = api.call("post", retry)
    assert status == 202 and replay["status"] == "pending"
    message, delay = fakes.queue.sent[-1]
    assert message == {"deliveryId": delivery["deliveryId"], "attempt": 4, "manual": True} and delay == 0
    assert dispatcher.dispatch(message) == "delivered"
    _, body, _ = api.call("get", f"/webhooks/{webhook_id}/deliveries")
    assert body["items"][0]["status"] == "delivered" and len(body["items"][0]["attempts"]) == 4
    assert api.call("post", f"/webhooks/{webhook_id}/deliveries/dlv_missing/retry")[0] == 404


def test_retry_of_a_disabled_webhook_is_409(api, fakes):
    _, created, _ = create(api)
    _notify(fakes)
    ((message, _),) = fakes.queue.sent
    fakes.container.dispatcher.sender.status = 200
    fakes.container.dispatcher.dispatch(message)
    api.call("put", f"/webhooks/{created['webhookId']}", {"enabled": False})
    delivery_id = message["deliveryId"]
    status, _, _ = api.call("post", f"/webhooks/{created['webhookId']}/deliveries/{delivery_id}/retry")
    assert status == 409


def test_disabled_subscriptions_and_other_types_get_no_deliveries(api, fakes):
    _, wanted, _ = create(api)
    create(api, events=["import.completed"])
    _, off, _ = create(api)
    api.call("put", f"/webhooks/{off['webhookId']}", {"enabled": False})
    _notify(fakes)
    assert [d.webhook_id for d in fakes.deliveries.items.values()] == [wanted["webhookId"]]


def test_consecutive_failures_disable_and_reenabling_resets(api, fakes):
    fakes.container.dispatcher.disable_after_failures = 2
    _, created, _ = create(api)
    for key in ("a", "b"):
        _notify(fakes, key)
    while fakes.queue.sent:
        message, _ = fakes.queue.sent.pop(0)
        fakes.container.dispatcher.dispatch(message)
    _, body, _ = api.call("get", f"/webhooks/{created['webhookId']}")
    assert body["enabled"] is False and body["disabledReason"] == "failing"
    _, body, _ = api.call("put", f"/webhooks/{created['webhookId']}", {"enabled": True})
    assert body["enabled"] is True and body["disabledReason"] is None
    assert fakes.subscriptions.get(created["webhookId"]).consecutive_failures == 0


def test_an_owner_past_the_cap_is_409_until_they_delete_one(api):
    from chalicelib.webhooks.service import WEBHOOKS_PER_OWNER

    ids = [create(api)[1]["webhookId"] for _ in range(WEBHOOKS_PER_OWNER)]
    status, problem, response = create(api)
    assert status == 409 and response.headers["Content-Type"] == "application/problem+json"
    assert str(WEBHOOKS_PER_OWNER) in problem["detail"]
    assert api.call("delete", f"/webhooks/{ids[0]}")[0] == 204
    assert create(api)[0] == 201


def test_an_organizer_lists_only_their_own_subscriptions_in_full_pages(api):
    from tests.fakes import bearer

    admins = [create(api)[1]["webhookId"] for _ in range(3)]  # the fixture's caller is an admin
    grace = AsCaller(api.http.http, bearer("grace", "organizers"))
    hers = []
    for _ in range(3):
        response = grace.post(
            "/webhooks",
            body=json.dumps({"url": "https://hooks.example.com/g", "events": ["import.completed"]}),
        )
        hers.append(json.loads(response.body)["webhookId"])
    first = json.loads(grace.get("/webhooks?limit=2").body)
    assert [w["webhookId"] for w in first["items"]] == hers[:2], "a full page of hers"
    rest = json.loads(grace.get(f"/webhooks?limit=2&cursor={first['nextCursor']}").body)
    assert [w["webhookId"] for w in rest["items"]] == hers[2:] and rest["nextCursor"] is None
    everyone = [w["webhookId"] for w in api.call("get", "/webhooks?limit=100")[1]["items"]]
    assert set(admins + hers) <= set(everyone)
