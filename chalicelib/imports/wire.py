"""Imports on the wire: the `dryRun` parameter, the import resource and its row errors."""

from __future__ import annotations

from typing import Any

from chalicelib.imports.domain import FINISHED, ImportRecord
from chalicelib.imports.rows import RowError
from chalicelib.shared.problems import FieldError, ValidationFailed

RETRY_AFTER_SECONDS = "2"


def dry_run(params: dict[str, str]) -> bool:
    """`?dryRun=true|false`, the only query parameter `POST .../imports` takes."""
    unknown = [FieldError(name, "is not a known parameter") for name in params if name != "dryRun"]
    value = params.get("dryRun", "false").lower()
    if value not in ("true", "false"):
        unknown.append(FieldError("dryRun", "must be true or false"))
    if unknown:
        raise ValidationFailed("The query parameters are not valid.", unknown)
    return value == "true"


def import_json(record: ImportRecord) -> dict[str, Any]:
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


def retry_after(record: ImportRecord) -> dict[str, str]:
    return {} if record.status in FINISHED else {"Retry-After": RETRY_AFTER_SECONDS}


def row_error_json(error: RowError) -> dict[str, Any]:
    return {"row": error.row, "field": error.field, "message": error.message}
