"""Imports on the wire: the `dryRun` parameter, the import resource and its row errors."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, RootModel

from chalicelib.imports.domain import FINISHED, ImportRecord
from chalicelib.imports.rows import MAX_ROWS, RowError
from chalicelib.shared.problems import FieldError, ValidationFailed
from chalicelib.shared.wire import Shown, WireModel

RETRY_AFTER_SECONDS = "2"


class ImportRowIn(WireModel):
    """One attendee; a row that breaks a rule is reported in the import's errors, not refused."""

    userId: str
    name: str | None = None
    email: str | None = None


class ImportRows(RootModel[list[ImportRowIn]]):
    """A JSON import: an array of rows (or CSV with a `userId,name,email` header)."""

    root: list[ImportRowIn] = Field(max_length=MAX_ROWS)


class DryRunQuery(WireModel):
    dryRun: bool | None = Field(None, description="Check every row and report, register nobody.")


class ImportShown(Shown):
    importId: str
    eventId: str
    status: Literal["queued", "validating", "running", "completed", "failed"]
    dryRun: bool
    total: int
    valid: int
    invalid: int
    enqueued: int
    decided: int
    confirmed: int
    waitlisted: int
    rejected: int
    alreadyRegistered: int
    usersCreated: int
    createdAt: str
    updatedAt: str
    completedAt: str | None = None
    failure: str | None = None


class RowErrorShown(Shown):
    row: int
    field: str
    message: str


class RowErrorPage(Shown):
    items: list[RowErrorShown]
    nextCursor: str | None


IMPORT_EXAMPLE = {
    "text/csv": "userId,name,email\nada,Ada Lovelace,ada@example.org\nbob,Bob,\n",
    "application/json": [{"userId": "ada", "name": "Ada Lovelace"}, {"userId": "bob"}],
}


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


def accepted_headers(record: ImportRecord) -> dict[str, str]:
    """A 202 always says where to poll and when."""
    return {"Location": f"/imports/{record.import_id}", "Retry-After": RETRY_AFTER_SECONDS}


def row_error_json(error: RowError) -> dict[str, Any]:
    return {"row": error.row, "field": error.field, "message": error.message}
