"""Routes for registering, cancelling, following a request and listing registrations."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.bootstrap import caller_of, services
from chalicelib.registrations.wire import (
    RegistrationCreate,
    RegistrationFilter,
    accepted,
    idempotency,
    request_json,
    retry_after,
)
from chalicelib.shared.http import api_route, json_response, listing, query, read_json
from chalicelib.shared.wire import parse

blueprint = Blueprint(__name__)


@api_route(blueprint, "/events/{eventId}/registrations", ["POST"])
def register(eventId: str) -> Response:
    request = blueprint.current_request
    payload = read_json(request)
    user_id = parse(RegistrationCreate, payload).userId
    caller = caller_of(request)
    record = services().registrations.register(
        caller, eventId, user_id, idempotency(request, payload, caller)
    )
    return json_response(*accepted(record))


@api_route(blueprint, "/events/{eventId}/registrations/{userId}", ["DELETE"])
def cancel(eventId: str, userId: str) -> Response:
    request = blueprint.current_request
    caller = caller_of(request)
    record = services().registrations.cancel(caller, eventId, userId, idempotency(request, None, caller))
    return json_response(*accepted(record))


@api_route(blueprint, "/events/{eventId}/registrations", ["GET"])
def event_registrations(eventId: str) -> Response:
    request = blueprint.current_request
    status = parse(RegistrationFilter, {"status": query(request).get("status", "confirmed")}, "query").status
    caller = caller_of(request)
    return listing(
        request,
        services().settings.cursor_secret,
        f"event-registrations/{eventId}/{status}",
        lambda limit, after: services().registrations.for_event(caller, eventId, status, limit, after),
    )


@api_route(blueprint, "/users/{userId}/registrations", ["GET"])
def user_registrations(userId: str) -> Response:
    return _user_listing(userId, "confirmed")


@api_route(blueprint, "/users/{userId}/waitlists", ["GET"])
def user_waitlists(userId: str) -> Response:
    return _user_listing(userId, "waitlisted")


def _user_listing(user_id: str, status: str) -> Response:
    request = blueprint.current_request
    caller = caller_of(request)
    return listing(
        request,
        services().settings.cursor_secret,
        f"user-{status}/{user_id}",
        lambda limit, after: services().registrations.for_user(caller, user_id, status, limit, after),
    )


@api_route(blueprint, "/requests/{requestId}", ["GET"])
def get_request(requestId: str) -> Response:
    record = services().registrations.request(caller_of(blueprint.current_request), requestId)
    return json_response(request_json(record), headers=retry_after(record))
