"""Registrations on the wire: request bodies, the request resource, outcomes, `202 Accepted`,
and the `Idempotency-Key` header. No chalice here: the worker stores outcomes in this shape."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Annotated, Any, Literal

from pydantic import Field

from chalicelib.registrations.domain import RequestStatus
from chalicelib.registrations.ports import RequestRecord
from chalicelib.registrations.service import Idempotency, fingerprint
from chalicelib.shared.caller import Caller
from chalicelib.shared.openapi import LOCATION, PREFERENCE_APPLIED, RETRY_AFTER, Reply, link
from chalicelib.shared.problems import FieldError, ValidationFailed
from chalicelib.shared.wire import Identifier, PageQuery, Shown, WireModel

RETRY_AFTER_SECONDS = "1"
MAX_IDEMPOTENCY_KEY = 255


class RegistrationCreate(WireModel):
    userId: Identifier | None = None  # omitted: the caller registers themselves


class RegistrationFilter(PageQuery):
    status: Literal["confirmed", "waitlisted", "offered"] = "confirmed"


class UserRegistrationFilter(PageQuery):
    # active (the default): every offer, confirmed seat and place in line, in that order
    status: Literal["active", "confirmed", "waitlisted", "offered", "declined", "offer_expired"] = "active"


class OutcomeShown(Shown):
    """How a request was decided."""

    type: Literal[
        "confirmed",
        "waitlisted",
        "rejected",
        "already_registered",
        "cancelled",
        "not_registered",
        "capacity_changed",
        "declined",
        "offer_expired",
    ]
    position: int | None = None  # waitlisted: the place in line after the decision
    reason: str | None = None  # rejected: event_full, event_closed, offer_expired, no_offer...
    currentStatus: str | None = None  # already_registered: confirmed, waitlisted or offered
    promotedUserId: str | None = None  # cancelled: who got the freed seat (owner and admins only)
    offeredUserId: str | None = None  # cancelled, declined, offer_expired: who is offered it (same)
    capacity: int | None = None  # capacity_changed


class RequestShown(Shown):
    """An accepted request, and its outcome once decided."""

    requestId: str
    type: str
    eventId: str
    status: Literal["pending", "completed", "failed"]
    createdAt: str
    userId: str | None = None
    outcome: OutcomeShown | None = None
    failure: Literal["queue_unavailable", "not_queued"] | None = Field(
        None,
        description="Failed: the queue refused it (`queue_unavailable`), or it was recorded but "
        "never queued (`not_queued`).",
    )
    completedAt: str | None = None
    aheadInLine: int | None = Field(
        None, ge=0, description="Pending: about how many of the event's commands are queued before it."
    )
    estimatedDecisionAt: str | None = Field(
        None, description="Pending: when it should be decided (RFC 3339, UTC); an estimate."
    )


class RegistrationShown(Shown):
    eventId: str
    userId: str
    status: Literal["confirmed", "waitlisted", "offered", "declined", "offer_expired"]
    registeredAt: str | None
    confirmedAt: str | None = None
    promotedBy: str | None = None  # the request that freed the seat
    offerExpiresAt: str | None = None  # offered: held until then (and when an ended offer lapsed)
    position: int | None = None  # waitlisted: the place in line
    name: str | None = None  # an event's attendee list (its owner, admins): who the user is
    email: str | None = None


class RegistrationPage(Shown):
    items: list[RegistrationShown]
    nextCursor: str | None


MAX_WAIT_SECONDS = 10  # Prefer: wait=N and ?wait=N, well inside the API's 15 s timeout


class WaitQuery(WireModel):
    wait: (
        Annotated[int, Field(ge=0, le=MAX_WAIT_SECONDS, description="Seconds to wait for the outcome.")]
        | None
    ) = None


# Every route that queues work answers 202 with where to poll; with `Prefer: wait=N` it may
# answer 200 with the request already decided.
ACCEPTED = Reply(
    202,
    "Accepted: queued; poll `Location` for the outcome.",
    RequestShown,
    (LOCATION, RETRY_AFTER),
    links={"GetRequest": link("get_request", requestId="requestId")},
)
# A registration's request names its event and user: what cancelling it takes.
REGISTRATION_ACCEPTED = replace(
    ACCEPTED,
    links={
        **ACCEPTED.links,
        "Cancel": link("cancel", eventId="eventId", userId="userId"),
        "UserRegistrations": link("user_registrations", userId="userId"),
    },
)
DECIDED = Reply(
    200,
    "Decided within `Prefer: wait=N`: the completed request resource.",
    RequestShown,
    (LOCATION, PREFERENCE_APPLIED),
)


def request_json(record: RequestRecord) -> dict[str, Any]:
    body: dict[str, Any] = {
        "requestId": record.request_id,
        "type": record.type,
        "eventId": record.event_id,
        "status": record.status,
        "createdAt": record.created_at,
    }
    if record.user_id is not None:
        body["userId"] = record.user_id
    if record.outcome is not None:
        body["outcome"] = record.outcome
    if record.failure is not None:
        body["failure"] = record.failure
    if record.completed_at is not None:
        body["completedAt"] = record.completed_at
    if record.status == RequestStatus.PENDING and record.place is not None:
        body["aheadInLine"] = record.place.ahead
        body["estimatedDecisionAt"] = record.place.estimated_at
    return body


def retry_after(record: RequestRecord) -> dict[str, str]:
    """A pending request's `Retry-After`: the seconds until its estimated decision while that is
    30 s or less, else halfway to it (at most 300; `lanes.ask_again_after`)."""
    if record.status != RequestStatus.PENDING:
        return {}
    return {"Retry-After": str(record.place.retry_after) if record.place else RETRY_AFTER_SECONDS}


def accepted(record: RequestRecord) -> tuple[dict[str, Any], int, dict[str, str]]:
    """`202 Accepted`: the request resource, and where and when to poll it (body, status,
    headers)."""
    headers = {"Location": f"/requests/{record.request_id}", **retry_after(record)}
    return request_json(record), 202, headers


def decided(record: RequestRecord, waited: int) -> tuple[dict[str, Any], int, dict[str, str]]:
    """`200 OK` to `Prefer: wait=N`: the request was decided while the caller waited."""
    headers = {"Location": f"/requests/{record.request_id}", "Preference-Applied": f"wait={waited}"}
    return request_json(record), 200, headers


def accepted_or_decided(
    record: RequestRecord,
    prefer: str | None,
    wait_for: Callable[[RequestRecord, float], RequestRecord],
    most: float = MAX_WAIT_SECONDS,
) -> tuple[dict[str, Any], int, dict[str, str]]:
    """202 with where to poll; or, when `Prefer: wait=N` asks for it and the request is decided
    within N seconds (at most `most`: what the API's own deadline leaves; `wait_for` polls it),
    200 with the decided request."""
    wait = int(min(preferred_wait(prefer), most))
    if wait and record.status == RequestStatus.PENDING:
        record = wait_for(record, wait)
        if record.status != RequestStatus.PENDING:
            return decided(record, wait)
    return accepted(record)


def preferred_wait(header: str | None) -> int:
    """Seconds a `Prefer` header (RFC 7240) asks to wait, at most MAX_WAIT_SECONDS; 0 when it
    asks for none or for something this API ignores (an unusable preference is ignored, not
    refused: RFC 7240 section 2)."""
    for preference in (header or "").split(","):
        name, _, value = preference.partition("=")
        value = value.split(";")[0].strip().strip('"')
        if name.strip().lower() == "wait" and value.isascii() and value.isdigit() and len(value) <= 6:
            return min(int(value), MAX_WAIT_SECONDS)
    return 0


def idempotency_key(value: str) -> str:
    if not 1 <= len(value) <= MAX_IDEMPOTENCY_KEY or not value.isprintable():
        raise ValidationFailed(
            "The Idempotency-Key header is not valid.",
            [FieldError("Idempotency-Key", f"must be 1-{MAX_IDEMPOTENCY_KEY} printable characters")],
        )
    return value


def idempotency(request: Any, body: object, caller: Caller) -> Idempotency | None:
    """The request's `Idempotency-Key`, scoped to the caller (two callers' keys never meet) and
    bound to what it asks: the method, the concrete path and the body. The scope leads with the
    subject's length, so no subject and key can spell another's (`a#b` + `k` vs `a` + `b#k`)."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    subject = caller.subject or ""
    scoped = f"{len(subject)}:{subject}#{idempotency_key(key)}"
    return Idempotency(scoped, fingerprint(request.method, concrete_path(request), body))


def concrete_path(request: Any) -> str:
    """The path as called (chalice's `request.path` is the route's template)."""
    params = request.uri_params or {}
    return re.sub(r"\{(\w+)\}", lambda m: str(params.get(m.group(1), m.group(0))), request.path)
