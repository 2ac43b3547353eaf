"""Routes for registering, cancelling, following a request and listing registrations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice import Blueprint, Response

from chalicelib.bootstrap import caller_of, services
from chalicelib.registrations.domain import ACTIVE
from chalicelib.registrations.ports import RequestRecord
from chalicelib.registrations.service import Idempotency
from chalicelib.registrations.wire import (
    ACCEPTED,
    DECIDED,
    REGISTRATION_ACCEPTED,
    RegistrationCreate,
    RegistrationFilter,
    RegistrationPage,
    RequestShown,
    UserRegistrationFilter,
    WaitQuery,
    accepted_or_decided,
    idempotency,
    request_json,
    retry_after,
)
from chalicelib.shared.caller import Caller
from chalicelib.shared.http import api_route, json_response, listing, query, read_json, time_to_wait
from chalicelib.shared.openapi import IDEMPOTENCY_KEY, PREFER, RETRY_AFTER, Operation, Reply
from chalicelib.shared.problems import EventNotOpen
from chalicelib.shared.wire import PageQuery, parse

blueprint = Blueprint(__name__)

RegistrationUseCase = Callable[[Caller, str, str, Idempotency | None], RequestRecord]


@api_route(
    blueprint,
    "/events/{eventId}/registrations",
    ["POST"],
    Operation(
        "Register for an event (the caller; an organizer or admin may name another user)",
        (REGISTRATION_ACCEPTED, DECIDED),
        (EventNotOpen,),
        body=RegistrationCreate,
        example={"application/json": {"userId": "ada"}},
        headers=(IDEMPOTENCY_KEY, PREFER),
        description="Decided in the event's queue group, in order: `confirmed` while seats "
        "remain, then `waitlisted` (or `rejected` with reason `event_full` without a waitlist).",
    ),
)
def register(eventId: str) -> Response:
    request = blueprint.current_request
    payload = read_json(request)
    user_id = parse(RegistrationCreate, payload).userId
    caller = caller_of(request)
    record = services().registrations.register(
        caller, eventId, user_id, idempotency(request, payload, caller)
    )
    return answer(request, record)


@api_route(
    blueprint,
    "/events/{eventId}/registrations/{userId}",
    ["DELETE"],
    Operation(
        "Cancel a registration (the user, the event's owner, admins)",
        (ACCEPTED, DECIDED),
        headers=(IDEMPOTENCY_KEY, PREFER),
        description="The freed seat goes to the head of the waitlist in the same transaction: "
        "promoted (`promotedUserId`), or offered the seat when the event has `waitlistOffer` "
        "(`offeredUserId`).",
    ),
)
def cancel(eventId: str, userId: str) -> Response:
    return _about_registration(services().registrations.cancel, eventId, userId)


@api_route(
    blueprint,
    "/events/{eventId}/registrations/{userId}/accept",
    ["POST"],
    Operation(
        "Accept a waitlist offer (the user, the event's owner, admins)",
        (ACCEPTED, DECIDED),
        headers=(IDEMPOTENCY_KEY, PREFER),
        description="Decided in the event's queue group: `confirmed` when asked before the offer's "
        "`offerExpiresAt`; otherwise `rejected` with reason `offer_expired` (even if the expiry is "
        "not processed yet) or `no_offer`.",
    ),
)
def accept_offer(eventId: str, userId: str) -> Response:
    return _about_registration(services().registrations.accept_offer, eventId, userId)


@api_route(
    blueprint,
    "/events/{eventId}/registrations/{userId}/decline",
    ["POST"],
    Operation(
        "Decline a waitlist offer (the user, the event's owner, admins)",
        (ACCEPTED, DECIDED),
        headers=(IDEMPOTENCY_KEY, PREFER),
        description="Decided in the event's queue group: `declined`, and the seat is offered to "
        "the next in line (`offeredUserId`); `rejected` with `offer_expired` or `no_offer` when "
        "there is no open offer to decline.",
    ),
)
def decline_offer(eventId: str, userId: str) -> Response:
    return _about_registration(services().registrations.decline_offer, eventId, userId)


def _about_registration(use_case: RegistrationUseCase, event_id: str, user_id: str) -> Response:
    """A bodiless request about one user's registration (cancel, accept, decline): 202 or,
    with `Prefer: wait`, 200 once decided."""
    request = blueprint.current_request
    caller = caller_of(request)
    return answer(request, use_case(caller, event_id, user_id, idempotency(request, None, caller)))


@api_route(
    blueprint,
    "/events/{eventId}/registrations",
    ["GET"],
    Operation(
        "List an event's attendees (by user id), its waitlist in order, or its open offers by expiry "
        "(the event's owner, admins)",
        (Reply(200, "A page of registrations.", RegistrationPage),),
        query=RegistrationFilter,
    ),
)
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


@api_route(
    blueprint,
    "/users/{userId}/registrations",
    ["GET"],
    Operation(
        "List a user's registrations: every active one by default (the user, admins)",
        (Reply(200, "A page of registrations.", RegistrationPage),),
        query=UserRegistrationFilter,
        description="Without `?status` (or with `active`): every open offer (with `offerExpiresAt`), "
        "confirmed seat and place in line (with `position`), in that order. `?status=` narrows it "
        "to `confirmed`, `waitlisted` or `offered`; `declined` and `offer_expired` list the offers "
        "that ended.",
    ),
)
def user_registrations(userId: str) -> Response:
    request = blueprint.current_request
    status = parse(UserRegistrationFilter, {"status": query(request).get("status", ACTIVE)}, "query")
    return _user_listing(userId, status.status)


@api_route(
    blueprint,
    "/users/{userId}/waitlists",
    ["GET"],
    Operation(
        "List the waitlists a user is on, with their place in line (the user, admins)",
        (Reply(200, "A page of registrations.", RegistrationPage),),
        query=PageQuery,
    ),
)
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


@api_route(
    blueprint,
    "/requests/{requestId}",
    ["GET"],
    Operation(
        "Follow a request (whoever made it, the event's owner, admins)",
        (Reply(200, "The request and, once decided, its outcome.", RequestShown, (RETRY_AFTER,)),),
        query=WaitQuery,
        description="`?wait=N` (1-10) waits up to N seconds for a pending request to be decided.",
    ),
)
def get_request(requestId: str) -> Response:
    request = blueprint.current_request
    wait = parse(WaitQuery, query(request), "query").wait or 0
    record = services().registrations.request(
        caller_of(request), requestId, min(wait, time_to_wait(blueprint))
    )
    return json_response(request_json(record), headers=retry_after(record))


def answer(request: Any, record: RequestRecord) -> Response:
    prefer, most = request.headers.get("prefer"), time_to_wait(blueprint)
    registrations = services().registrations

    def wait_for(pending: RequestRecord, seconds: float) -> RequestRecord:
        caller = caller_of(request)
        return registrations.shown_to(caller, registrations.waited(caller, pending, seconds))

    return json_response(*accepted_or_decided(record, prefer, wait_for, most))
