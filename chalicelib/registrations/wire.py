"""Registrations on the wire: request bodies, the request resource, outcomes, `202 Accepted`,
and the `Idempotency-Key` header. No chalice here: the worker stores outcomes in this shape."""

from __future__ import annotations

import re
from typing import Any, Literal

from chalicelib.registrations.domain import Outcome
from chalicelib.registrations.ports import RequestRecord
from chalicelib.registrations.service import Idempotency, fingerprint
from chalicelib.shared.caller import Caller
from chalicelib.shared.problems import FieldError, ValidationFailed
from chalicelib.shared.wire import Identifier, WireModel

RETRY_AFTER_SECONDS = "1"
MAX_IDEMPOTENCY_KEY = 255


class RegistrationCreate(WireModel):
    userId: Identifier | None = None  # omitted: the caller registers themselves


class RegistrationFilter(WireModel):
    status: Literal["confirmed", "waitlisted"]


def outcome_json(outcome: Outcome) -> dict[str, Any]:
    """An outcome as stored on the request item and shown by `GET /requests/{id}`."""
    body: dict[str, Any] = {"type": outcome.kind}
    if outcome.position is not None:
        body["position"] = outcome.position
    if outcome.reason is not None:
        body["reason"] = outcome.reason
    if outcome.current_status is not None:
        body["currentStatus"] = outcome.current_status
    if outcome.kind == "cancelled" and outcome.promoted_user_ids:
        body["promotedUserId"] = outcome.promoted_user_ids[0]
    if outcome.kind == "capacity_changed":
        body["capacity"] = outcome.capacity
    return body


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
    return body


def retry_after(record: RequestRecord) -> dict[str, str]:
    return {"Retry-After": RETRY_AFTER_SECONDS} if record.status == "pending" else {}


def accepted(record: RequestRecord) -> tuple[dict[str, Any], int, dict[str, str]]:
    """`202 Accepted`: the request resource, and where to poll it (body, status, headers)."""
    headers = {"Location": f"/requests/{record.request_id}", **retry_after(record)}
    return request_json(record), 202, headers


def idempotency_key(value: str) -> str:
    if not 1 <= len(value) <= MAX_IDEMPOTENCY_KEY or not value.isprintable():
        raise ValidationFailed(
            "The Idempotency-Key header is not valid.",
            [FieldError("Idempotency-Key", f"must be 1-{MAX_IDEMPOTENCY_KEY} printable characters")],
        )
    return value


def idempotency(request: Any, body: object, caller: Caller) -> Idempotency | None:
    """The request's `Idempotency-Key`, scoped to the caller (two callers' keys never meet) and
    bound to what it asks: the method, the concrete path and the body."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    scoped = f"{caller.subject or ''}#{idempotency_key(key)}"
    return Idempotency(scoped, fingerprint(request.method, concrete_path(request), body))


def concrete_path(request: Any) -> str:
    """The path as called (chalice's `request.path` is the route's template)."""
    params = request.uri_params or {}
    return re.sub(r"\{(\w+)\}", lambda m: str(params.get(m.group(1), m.group(0))), request.path)
