"""Errors the services raise, and their RFC 9457 problem+json body (rendered by `http`).

Each error names its problem type, HTTP status and title; `errors` lists the offending fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PROBLEM_TYPE_BASE = "https://turnstile.dev/problems/"


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


@dataclass
class TurnstileError(Exception):
    """A failure with a problem type, an HTTP status and a human detail."""

    detail: str
    errors: list[FieldError] = field(default_factory=list)
    status = 500
    type = "about:blank"
    title = "Internal Server Error"

    def __str__(self) -> str:
        return self.detail

    @property
    def headers(self) -> dict[str, str]:
        """Headers the problem response carries besides its body."""
        return {}


class BadRequest(TurnstileError):
    status, type, title = 400, "bad-request", "Bad Request"


class MalformedJson(TurnstileError):
    status, type, title = 400, "malformed-json", "Malformed JSON"


class InvalidCursor(TurnstileError):
    status, type, title = 400, "invalid-cursor", "Invalid Cursor"


class Unauthorized(TurnstileError):
    """No valid bearer token where one is needed: 401 with `WWW-Authenticate: Bearer`."""

    status, type, title = 401, "unauthorized", "Unauthorized"

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="turnstile"'}


class Forbidden(TurnstileError):
    """Authenticated, but not allowed to do this to a resource whose existence is public."""

    status, type, title = 403, "forbidden", "Forbidden"


class NotFound(TurnstileError):
    status, type, title = 404, "not-found", "Not Found"


class Conflict(TurnstileError):
    status, type, title = 409, "conflict", "Conflict"


class EventNotOpen(TurnstileError):
    status, type, title = 409, "event-not-open", "Event Not Open"


class PreconditionFailed(TurnstileError):
    status, type, title = 412, "precondition-failed", "Precondition Failed"


class PayloadTooLarge(TurnstileError):
    status, type, title = 413, "payload-too-large", "Payload Too Large"


class UnsupportedMediaType(TurnstileError):
    status, type, title = 415, "unsupported-media-type", "Unsupported Media Type"


class ValidationFailed(TurnstileError):
    status, type, title = 422, "validation-error", "Validation Failed"


class IdempotencyKeyReused(TurnstileError):
    status, type, title = 422, "idempotency-key-reused", "Idempotency Key Reused"


class ServiceUnavailable(TurnstileError):
    status, type, title = 503, "service-unavailable", "Service Unavailable"

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}


def problem_type(kind: str) -> str:
    return kind if kind == "about:blank" else PROBLEM_TYPE_BASE + kind


def problem_body(error: TurnstileError) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": problem_type(error.type),
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
    }
    if error.errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in error.errors]
    return body
