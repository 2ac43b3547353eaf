"""Turnstile's HTTP API. Routes only: parse, call a service, shape the answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice import Chalice, Response

from chalicelib import observability
from chalicelib import representations as wire
from chalicelib.container import container
from chalicelib.http import (
    api_route,
    chalice_error_as_problem,
    etag,
    json_response,
    page,
    page_parameters,
    parse_if_match,
    read_json,
)
from chalicelib.ports import RequestRecord
from chalicelib.routes.imports import imports_api
from chalicelib.routes.webhooks import blueprint as webhooks_api
from chalicelib.schemas import (
    EventCreate,
    EventUpdate,
    RegistrationCreate,
    RegistrationFilter,
    UserCreate,
    parse,
    reject_nulls,
    validate_idempotency_key,
)
from chalicelib.services.registrations import Idempotency, fingerprint

app = Chalice(app_name="turnstile")
app.register_blueprint(webhooks_api)  # /webhooks...
app.register_blueprint(imports_api)  # /events/{eventId}/imports, /imports...
app.register_middleware(observability.http_middleware, "http")  # correlation id, metrics


def route(path: str, methods: list[str]) -> Callable[[Callable[..., Response]], Any]:
    return api_route(app, path, methods)


@app.middleware("http")
def problems_for_framework_errors(event: Any, get_response: Callable[[Any], Response]) -> Response:
    return chalice_error_as_problem(get_response(event))


RETRY_AFTER_SECONDS = "1"


def _secret() -> str:
    return container().settings.cursor_secret


def _idempotency(body: object) -> Idempotency | None:
    request = app.current_request
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    return Idempotency(validate_idempotency_key(key), fingerprint(request.method, request.path, body))


def _accepted(record: RequestRecord) -> Response:
    headers = {"Location": f"/requests/{record.request_id}"}
    if record.status == "pending":
        headers["Retry-After"] = RETRY_AFTER_SECONDS
    return json_response(wire.request(record), 202, headers)


def _page_of(scope: str) -> tuple[int, dict | None]:
    return page_parameters(app.current_request.query_params, _secret(), scope)


# --- events -------------------------------------------------------------------------------


@route("/events", methods=["POST"])
def create_event() -> Response:
    event = container().events.create(parse(EventCreate, read_json(app.current_request)))
    headers = {"Location": f"/events/{event.event_id}", "ETag": etag(event.version)}
    return json_response(wire.event(event), 201, headers)


@route("/events", methods=["GET"])
def list_events() -> Response:
    params = app.current_request.query_params or {}
    status = params.get("status")
    if status is not None:
        parse(EventUpdate, {"status": status})
    limit, after = page_parameters(params, _secret(), "events")
    events, next_position = container().events.list(status, limit, after)
    return json_response(page([wire.event(e) for e in events], next_position, _secret(), "events"))


@route("/events/{eventId}", methods=["GET"])
def get_event(eventId: str) -> Response:
    event = container().events.get(eventId)
    return json_response(wire.event(event), headers={"ETag": etag(event.version)})


@route("/events/{eventId}", methods=["PUT"])
def update_event(eventId: str) -> Response:
    payload = read_json(app.current_request)
    parse(EventUpdate, payload)
    reject_nulls(payload)
    if_match = parse_if_match(app.current_request.headers.get("if-match"))
    if "capacity" in payload:  # touches seats: decided in the event's queue group
        record = container().events.change_seats(eventId, payload, if_match, _idempotency(payload))
        return _accepted(record)
    event = container().events.update(eventId, payload, if_match)
    return json_response(wire.event(event), headers={"ETag": etag(event.version)})


@route("/events/{eventId}", methods=["DELETE"])
def delete_event(eventId: str) -> Response:
    container().events.delete(eventId)
    return Response(body="", status_code=204)


# --- registrations ------------------------------------------------------------------------


@route("/events/{eventId}/registrations", methods=["POST"])
def register(eventId: str) -> Response:
    payload = read_json(app.current_request)
    user_id = parse(RegistrationCreate, payload).userId
    record = container().registrations.register(eventId, user_id, _idempotency(payload))
    return _accepted(record)


@route("/events/{eventId}/registrations/{userId}", methods=["DELETE"])
def cancel(eventId: str, userId: str) -> Response:
    record = container().registrations.cancel(eventId, userId, _idempotency(None))
    return _accepted(record)


@route("/events/{eventId}/registrations", methods=["GET"])
def event_registrations(eventId: str) -> Response:
    params = app.current_request.query_params or {}
    status = parse(RegistrationFilter, {"status": params.get("status", "confirmed")}).status
    scope = f"event-registrations/{eventId}/{status}"
    limit, after = _page_of(scope)
    rows, next_position = container().registrations.for_event(eventId, status, limit, after)
    return json_response(page(rows, next_position, _secret(), scope))


@route("/users/{userId}/registrations", methods=["GET"])
def user_registrations(userId: str) -> Response:
    return _user_listing(userId, "confirmed")


@route("/users/{userId}/waitlists", methods=["GET"])
def user_waitlists(userId: str) -> Response:
    return _user_listing(userId, "waitlisted")


def _user_listing(user_id: str, status: str) -> Response:
    scope = f"user-{status}/{user_id}"
    limit, after = _page_of(scope)
    rows, next_position = container().registrations.for_user(user_id, status, limit, after)
    return json_response(page(rows, next_position, _secret(), scope))


@route("/requests/{requestId}", methods=["GET"])
def get_request(requestId: str) -> Response:
    record = container().registrations.request(requestId)
    headers = {"Retry-After": RETRY_AFTER_SECONDS} if record.status == "pending" else {}
    return json_response(wire.request(record), headers=headers)


# --- users --------------------------------------------------------------------------------


@route("/users", methods=["POST"])
def create_user() -> Response:
    user = container().users.create(parse(UserCreate, read_json(app.current_request)))
    return json_response(wire.user(user), 201, {"Location": f"/users/{user.user_id}"})


@route("/users/{userId}", methods=["GET"])
def get_user(userId: str) -> Response:
    return json_response(wire.user(container().users.get(userId)))
