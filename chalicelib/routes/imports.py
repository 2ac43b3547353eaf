"""Bulk-import routes: submit a file of registrations, follow its progress, page its errors."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.errors import FieldError, ValidationFailed
from chalicelib.http import api_route, json_response, page, page_parameters
from chalicelib.imports.container import imports
from chalicelib.imports.ports import FINISHED, ImportRecord
from chalicelib.schemas import validate_idempotency_key

imports_api = Blueprint(__name__)
RETRY_AFTER_SECONDS = "2"


def _record(record: ImportRecord) -> dict[str, Any]:
    body: dict[str, Any] = {
        "importId": record.import_id,
        "eventId": record.event_id,
        "status": record.status,
        "dryRun": record.dry_run,
        "total": record.total,
        "valid": record.valid,
        "invalid": record.invalid,
        "enqueued": record.enqueued,
        "decided": record.decided,
        "confirmed": record.confirmed,
        "waitlisted": record.waitlisted,
        "rejected": record.rejected,
        "alreadyRegistered": record.already_registered,
        "usersCreated": record.users_created,
        "createdAt": record.created_at,
        "updatedAt": record.updated_at,
    }
    if record.completed_at:
        body["completedAt"] = record.completed_at
    if record.failure:
        body["failure"] = record.failure
    return body


def _answer(record: ImportRecord, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    headers = dict(headers or {})
    if record.status not in FINISHED:
        headers["Retry-After"] = RETRY_AFTER_SECONDS
    return json_response(_record(record), status, headers)


def _dry_run(params: dict[str, str]) -> bool:
    unknown = [FieldError(name, "is not a known parameter") for name in params if name != "dryRun"]
    value = params.get("dryRun", "false").lower()
    if value not in ("true", "false"):
        unknown.append(FieldError("dryRun", "must be true or false"))
    if unknown:
        raise ValidationFailed("The query parameters are not valid.", unknown)
    return value == "true"


@api_route(imports_api, "/events/{eventId}/imports", methods=["POST"])
def create_import(eventId: str) -> Response:
    request = imports_api.current_request
    dry_run = _dry_run(request.query_params or {})
    key = request.headers.get("idempotency-key")
    record = imports().service.submit(
        eventId,
        request.headers.get("content-type"),
        request.raw_body or b"",
        dry_run,
        None if key is None else validate_idempotency_key(key),
    )
    return _answer(record, 202, {"Location": f"/imports/{record.import_id}"})


@api_route(imports_api, "/imports/{importId}", methods=["GET"])
def get_import(importId: str) -> Response:
    return _answer(imports().service.get(importId))


@api_route(imports_api, "/imports/{importId}/errors", methods=["GET"])
def import_errors(importId: str) -> Response:
    secret = imports().settings.cursor_secret
    scope = f"import-errors/{importId}"
    limit, after = page_parameters(imports_api.current_request.query_params, secret, scope)
    errors, next_position = imports().service.errors(importId, limit, after)
    rows = [{"row": e.row, "field": e.field, "message": e.message} for e in errors]
    return json_response(page(rows, next_position, secret, scope))
