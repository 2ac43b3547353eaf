"""Who may do what: every route, called by anonymous, the user themselves, another attendee, the
event's owner, another organizer and an admin, each with the status it must get."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from chalice.test import Client

from app import app
from chalicelib import bootstrap
from chalicelib.webhooks.notifications import Notification
from tests.fakes import bearer, memory_services

ROLES = ("anonymous", "self", "other", "owner", "organizer", "admin")
HEADERS = {
    "anonymous": {},
    "self": bearer("ada"),  # an attendee: the user the routes below name
    "other": bearer("bob"),  # another attendee
    "owner": bearer("olga", "organizers"),  # owns the events below
    "organizer": bearer("oscar", "organizers"),  # another organizer
    "admin": bearer("root", "admins"),
}


@dataclass
class World:
    client: Client
    request_id: str
    import_id: str
    webhook_id: str
    delivery_id: str

    def call(
        self, role: str, method: str, path: str, body: object = None, content_type: str = "application/json"
    ):
        path = path.format(
            request=self.request_id, imp=self.import_id, hook=self.webhook_id, dlv=self.delivery_id
        )
        raw = body if isinstance(body, bytes) else (json.dumps(body) if body is not None else b"")
        headers = {"Content-Type": content_type, **HEADERS[role]}
        return getattr(self.client.http, method.lower())(path, headers=headers, body=raw)


def as_(role: str, client: Client, method: str, path: str, body: object = None) -> dict:
    response = World(client, "", "", "", "").call(role, method, path, body)
    assert response.status_code < 300, (role, method, path, response.body)
    return json.loads(response.body) if response.body else {}


@pytest.fixture
def world():
    """Users ada, bob, olga, oscar; olga's published event `pub` (ada registered) and draft
    `draft`; a request of ada's, an import and a webhook subscription of olga's with a delivery."""
    bootstrap.use(memory_services())
    with Client(app) as client:
        for user in ("ada", "bob", "olga", "oscar"):
            as_(
                "self" if user == "ada" else "admin",
                client,
                "POST",
                "/users",
                {"userId": user, "name": user.title()},
            )
        event = {"title": "PyCon", "date": "2026-06-01", "capacity": 5, "waitlistEnabled": True}
        as_("owner", client, "POST", "/events", {"eventId": "pub", **event})
        as_("owner", client, "POST", "/events", {"eventId": "draft", "status": "draft", **event})
        request = as_("self", client, "POST", "/events/pub/registrations", {})
        imported = World(client, "", "", "", "").call(
            "owner", "POST", "/events/pub/imports", b"userId\ncy\n", "text/csv"
        )
        hook = as_(
            "owner",
            client,
            "POST",
            "/webhooks",
            {"url": "https://93.184.216.34/in", "events": ["registration.promoted"]},
        )
        services = bootstrap.services()
        [delivery_id] = services.relay.relay(Notification("msg_1", "registration.promoted", "t", {}, "olga"))
        attempt = {"attempt": 1, "attemptedAt": "t", "statusCode": 500, "latencyMs": 1, "error": "HTTP 500"}
        services.relay.deliveries.record_attempt(delivery_id, attempt, "failed", None, "t")
        yield World(
            client,
            request["requestId"],
            json.loads(imported.body)["importId"],
            hook["webhookId"],
            delivery_id,
        )
    bootstrap.use(None)


NEW_EVENT = {"eventId": "new", "title": "New", "date": "2026-07-01", "capacity": 3}
#                                                                anonymous self other owner organizer admin
TABLE = [
    ("GET", "/events", None,                                          (200, 200, 200, 200, 200, 200)),
    ("GET", "/events/pub", None,                                      (200, 200, 200, 200, 200, 200)),
    ("GET", "/events/draft", None,                                    (404, 404, 404, 200, 404, 200)),
    ("POST", "/events", NEW_EVENT,                                    (401, 403, 403, 201, 201, 201)),
    ("PUT", "/events/pub", {"title": "Renamed"},                      (401, 403, 403, 200, 403, 200)),
    ("PUT", "/events/pub", {"capacity": 9},                           (401, 403, 403, 202, 403, 202)),
    ("PUT", "/events/draft", {"title": "Renamed"},                    (401, 404, 404, 200, 404, 200)),
    ("DELETE", "/events/pub", None,                                   (401, 403, 403, 204, 403, 204)),
    ("POST", "/users", {"userId": "newbie", "name": "N"},             (401, 403, 403, 403, 403, 201)),
    ("GET", "/users/ada", None,                                       (401, 200, 404, 404, 404, 200)),
    ("GET", "/users/ada/registrations", None,                         (401, 200, 404, 404, 404, 200)),
    ("GET", "/users/ada/waitlists", None,                             (401, 200, 404, 404, 404, 200)),
    ("POST", "/events/pub/registrations", {"userId": "ada"},          (401, 202, 403, 202, 403, 202)),
    ("POST", "/events/draft/registrations", {"userId": "ada"},        (401, 404, 404, 409, 404, 409)),
    ("DELETE", "/events/pub/registrations/ada", None,                 (401, 202, 404, 202, 404, 202)),
    ("POST", "/events/pub/registrations/ada/accept", None,            (401, 202, 404, 202, 404, 202)),
    ("POST", "/events/pub/registrations/ada/decline", None,           (401, 202, 404, 202, 404, 202)),
    ("POST", "/events/draft/registrations/ada/accept", None,          (401, 404, 404, 202, 404, 202)),
    ("GET", "/events/pub/registrations", None,                        (401, 403, 403, 200, 403, 200)),
    ("GET", "/events/pub/registrations?status=offered", None,         (401, 403, 403, 200, 403, 200)),
    ("GET", "/users/ada/registrations?status=offered", None,          (401, 200, 404, 404, 404, 200)),
    ("GET", "/requests/{request}", None,                              (401, 200, 404, 200, 404, 200)),
    ("POST", "/events/pub/imports", b"userId\ndan\n",                 (401, 403, 403, 202, 403, 202)),
    ("GET", "/imports/{imp}", None,                                   (401, 404, 404, 200, 404, 200)),
    ("GET", "/imports/{imp}/errors", None,                            (401, 404, 404, 200, 404, 200)),
    ("POST", "/webhooks", {"url": "https://93.184.216.34/x", "events": ["import.completed"]},
                                                                      (401, 403, 403, 201, 201, 201)),
    ("GET", "/webhooks", None,                                        (401, 403, 403, 200, 200, 200)),
    ("GET", "/webhooks/{hook}", None,                                 (401, 403, 403, 200, 404, 200)),
    ("PUT", "/webhooks/{hook}", {"enabled": False},                   (401, 403, 403, 200, 404, 200)),
    ("POST", "/webhooks/{hook}/rotate-secret", None,                  (401, 403, 403, 200, 404, 200)),
    ("GET", "/webhooks/{hook}/deliveries", None,                      (401, 403, 403, 200, 404, 200)),
    ("GET", "/webhooks/{hook}/deliveries/{dlv}", None,                (401, 403, 403, 200, 404, 200)),
    ("POST", "/webhooks/{hook}/deliveries/{dlv}/retry", None,         (401, 403, 403, 202, 404, 202)),
    ("DELETE", "/webhooks/{hook}", None,                              (401, 403, 403, 204, 404, 204)),
    ("GET", "/openapi.json", None,                                    (200, 200, 200, 200, 200, 200)),
    ("GET", "/docs", None,                                            (200, 200, 200, 200, 200, 200)),
    ("GET", "/redoc", None,                                           (200, 200, 200, 200, 200, 200)),
    ("GET", "/docs/assets/swagger-ui.css", None,                      (200, 200, 200, 200, 200, 200)),
]  # fmt: skip
CASES = [
    pytest.param(method, path, body, role, expected[i], id=f"{method} {path} as {role}")
    for method, path, body, expected in TABLE
    for i, role in enumerate(ROLES)
]


@pytest.mark.parametrize(("method", "path", "body", "role", "status"), CASES)
def test_route_access(world, method, path, body, role, status):
    content_type = "text/csv" if isinstance(body, bytes) else "application/json"
    response = world.call(role, method, path, body, content_type)
    assert response.status_code == status, response.body
    if status in (401, 403, 404):
        assert response.headers["Content-Type"] == "application/problem+json"
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_every_route_of_the_app_is_in_the_table():
    routes = {(m, p) for p, entry in app.routes.items() for m in entry}
    covered = {
        (m, p.replace("{request}", "{requestId}").replace("{imp}", "{importId}")) for m, p, _, _ in TABLE
    }
    templates = {(m, _template(p)) for m, p in covered}
    assert {(m, p) for m, p in routes if m != "OPTIONS"} <= templates


def _template(path: str) -> str:
    names = {
        "pub": "{eventId}",
        "draft": "{eventId}",
        "ada": "{userId}",
        "{hook}": "{webhookId}",
        "{dlv}": "{deliveryId}",
        "swagger-ui.css": "{name}",
    }
    return "/".join(names.get(part, part) for part in path.split("/"))


# What a summary's parenthesis promises (its words) -> the caller of TABLE who must then get a 2xx.
PROMISES = {"organizers": "organizer", "the event's owner": "owner", "the user": "self", "admins": "admin"}


def test_every_summary_promises_only_the_access_the_table_grants(world):
    """A route's summary names who may call it; each named caller gets a 2xx in some row of the
    table for that route (a draft event stays hidden from the attendee a summary names)."""
    paths = json.loads(world.call("anonymous", "GET", "/openapi.json").body)["paths"]
    granted: dict[tuple[str, str], set[str]] = {}
    for method, path, _, expected in TABLE:
        template = (
            _template(path.split("?")[0]).replace("{request}", "{requestId}").replace("{imp}", "{importId}")
        )
        roles = {role for role, status in zip(ROLES, expected, strict=True) if status < 300}
        granted.setdefault((method, template), set()).update(roles)
    for (method, template), roles in granted.items():
        summary = paths[template][method.lower()]["summary"]
        promised = summary[summary.rfind("(") + 1 : summary.rfind(")")].split(", ") if "(" in summary else []
        for words, role in PROMISES.items():
            assert words not in promised or role in roles, (
                f"{method} {template}: '{summary}' promises {words}"
            )


def test_a_request_made_for_a_user_by_the_events_owner_is_not_that_users_to_follow(world):
    made = as_("owner", world.client, "POST", "/events/pub/registrations", {"userId": "bob"})
    assert world.call("other", "GET", f"/requests/{made['requestId']}").status_code == 404  # bob
    assert world.call("owner", "GET", f"/requests/{made['requestId']}").status_code == 200
