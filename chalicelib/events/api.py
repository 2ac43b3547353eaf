"""Routes for events. A change of capacity (and a deletion) touches seats, so it is accepted here
and decided in the event's queue group by the registrations feature."""

from __future__ import annotations

from functools import partial

from chalice import Blueprint, Response

from chalicelib.bootstrap import caller_of, services
from chalicelib.events.wire import (
    EVENT_EXAMPLE,
    EventCreate,
    EventFilter,
    EventPage,
    EventShown,
    EventUpdate,
    event_json,
)
from chalicelib.registrations.wire import ACCEPTED, DECIDED, accepted_or_decided, idempotency
from chalicelib.shared.http import (
    api_route,
    etag,
    json_response,
    listing,
    no_content,
    parse_if_match,
    query,
    read_json,
    time_to_wait,
)
from chalicelib.shared.openapi import (
    ETAG,
    IDEMPOTENCY_KEY,
    IF_MATCH,
    LOCATION,
    PREFER,
    Operation,
    Reply,
    link,
)
from chalicelib.shared.problems import Conflict
from chalicelib.shared.wire import parse, reject_nulls

NULLABLE = frozenset({"waitlistOffer"})  # null turns waitlist offers off

blueprint = Blueprint(__name__)


CREATED = Reply(
    201,
    "The event.",
    EventShown,
    (LOCATION, ETAG),
    links={
        "GetEvent": link("get_event", eventId="eventId"),
        "Register": link("register", eventId="eventId"),
        "ListRegistrations": link("event_registrations", eventId="eventId"),
        "UpdateEvent": link("update_event", eventId="eventId"),
    },
)
THE_EVENT = Reply(200, "The event.", EventShown, (ETAG,))


@api_route(
    blueprint,
    "/events",
    ["POST"],
    Operation(
        "Create an event (organizers, admins); the caller owns it",
        (CREATED,),
        (Conflict,),
        body=EventCreate,
        example={"application/json": EVENT_EXAMPLE},
    ),
)
def create_event() -> Response:
    request = blueprint.current_request
    new = parse(EventCreate, read_json(request)).new_event()
    event = services().events.create(caller_of(request), new)
    headers = {"Location": f"/events/{event.event_id}", "ETag": etag(event.version)}
    return json_response(event_json(event), 201, headers)


@api_route(
    blueprint,
    "/events",
    ["GET"],
    Operation(
        "List events, soonest first (drafts: their owner's, or every one for admins)",
        (Reply(200, "A page of events.", EventPage),),
        query=EventFilter,
        anonymous=True,
    ),
)
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


@api_route(
    blueprint,
    "/events/{eventId}",
    ["GET"],
    Operation("Get an event (a draft: its owner and admins only)", (THE_EVENT,), anonymous=True),
)
def get_event(eventId: str) -> Response:
    event = services().events.get(caller_of(blueprint.current_request), eventId)
    return json_response(event_json(event), headers={"ETag": etag(event.version)})


@api_route(
    blueprint,
    "/events/{eventId}",
    ["PUT"],
    Operation(
        "Update an event (its owner, admins)",
        (THE_EVENT, ACCEPTED, DECIDED),
        (Conflict,),
        body=EventUpdate,
        example={"application/json": {"title": "PyCon Lisbon 2026", "capacity": 120}},
        headers=(IF_MATCH, IDEMPOTENCY_KEY, PREFER),
        description="A change of `capacity` touches seats: it is queued in the event's group and "
        "answered 202 with a request resource (other fields in the same body change with it). "
        "Any other change is applied at once and answered 200.",
    ),
)
def update_event(eventId: str) -> Response:
    request = blueprint.current_request
    payload = read_json(request)
    parse(EventUpdate, payload)
    reject_nulls(payload, nullable=NULLABLE)
    if_match = parse_if_match(request.headers.get("if-match"))
    caller = caller_of(request)
    if "capacity" in payload:  # touches seats: decided in the event's queue group
        record = services().seat_changes.change_capacity(
            caller, eventId, payload, if_match, idempotency(request, payload, caller)
        )
        prefer, most = request.headers.get("prefer"), time_to_wait(blueprint)
        wait_for = partial(services().registrations.waited, caller)  # capped per caller
        return json_response(*accepted_or_decided(record, prefer, wait_for, most))
    event = services().events.update(caller, eventId, payload, if_match)
    return json_response(event_json(event), headers={"ETag": etag(event.version)})


@api_route(
    blueprint,
    "/events/{eventId}",
    ["DELETE"],
    Operation(
        "Delete an event and its registrations (its owner, admins)",
        (Reply(204, "Deleted; its registrations are purged in the event's queue group."),),
    ),
)
def delete_event(eventId: str) -> Response:
    services().seat_changes.delete_event(caller_of(blueprint.current_request), eventId)
    return no_content()
