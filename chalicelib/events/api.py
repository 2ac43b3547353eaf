"""Routes for events. A change of capacity (and a deletion) touches seats, so it is accepted here
and decided in the event's queue group by the registrations feature."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.bootstrap import caller_of, services
from chalicelib.events.wire import EventCreate, EventFilter, EventUpdate, event_json
from chalicelib.registrations.wire import accepted, idempotency
from chalicelib.shared.http import (
    api_route,
    etag,
    json_response,
    listing,
    no_content,
    parse_if_match,
    query,
    read_json,
)
from chalicelib.shared.wire import parse, reject_nulls

blueprint = Blueprint(__name__)


@api_route(blueprint, "/events", ["POST"])
def create_event() -> Response:
    request = blueprint.current_request
    new = parse(EventCreate, read_json(request)).new_event()
    event = services().events.create(caller_of(request), new)
    headers = {"Location": f"/events/{event.event_id}", "ETag": etag(event.version)}
    return json_response(event_json(event), 201, headers)


@api_route(blueprint, "/events", ["GET"])
def list_events() -> Response:
    request = blueprint.current_request
    status = parse(EventFilter, {"status": query(request).get("status")}, "query").status
    caller = caller_of(request)
    return listing(
        request,
        services().settings.cursor_secret,
        "events",
        lambda limit, after: services().events.list(caller, status, limit, after),
        event_json,
    )


@api_route(blueprint, "/events/{eventId}", ["GET"])
def get_event(eventId: str) -> Response:
    event = services().events.get(caller_of(blueprint.current_request), eventId)
    return json_response(event_json(event), headers={"ETag": etag(event.version)})


@api_route(blueprint, "/events/{eventId}", ["PUT"])
def update_event(eventId: str) -> Response:
    request = blueprint.current_request
    payload = read_json(request)
    parse(EventUpdate, payload)
    reject_nulls(payload)
    if_match = parse_if_match(request.headers.get("if-match"))
    caller = caller_of(request)
    if "capacity" in payload:  # touches seats: decided in the event's queue group
        record = services().seat_changes.change_capacity(
            caller, eventId, payload, if_match, idempotency(request, payload, caller)
        )
        return json_response(*accepted(record))
    event = services().events.update(caller, eventId, payload, if_match)
    return json_response(event_json(event), headers={"ETag": etag(event.version)})


@api_route(blueprint, "/events/{eventId}", ["DELETE"])
def delete_event(eventId: str) -> Response:
    services().seat_changes.delete_event(caller_of(blueprint.current_request), eventId)
    return no_content()
