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


class ImportQuery(WireModel):
    dryRun: bool | None = Field(None, description="Check every row and report, register nobody.")
    upload: bool | None = Field(
        None,
        description="Send no body: get a presigned S3 form to upload the file (up to 64 MiB) "
        "instead; the upload starts the import. The Content-Type header names the file's type.",
    )


class UploadShown(Shown):
    """A presigned S3 form: POST `url` as multipart/form-data with `fields` and then the file
    (as the field `file`)."""

    url: str
    fields: dict[str, str]
    expiresInSeconds: int
    maxBytes: int


class ImportShown(Shown):
    importId: str
    eventId: str
    status: Literal["awaiting_upload", "queued", "validating", "running", "completed", "failed"]
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
    upload: UploadShown | None = None  # `?upload=true`, while the import awaits its file


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


def import_options(params: dict[str, str]) -> tuple[bool, bool]:
    """`?dryRun=true|false` and `?upload=true|false`, the query parameters `POST .../imports`
    takes: (dry run, hand back a presigned upload instead of reading the body)."""
    problems = [FieldError(name, "is not a known parameter") for name in params if name not in OPTIONS]
    values = {name: params.get(name, "false").lower() for name in OPTIONS}
    problems += [
        FieldError(name, "must be true or false") for name, v in values.items() if v not in ("true", "false")
    ]
    if problems:
        raise ValidationFailed("The query parameters are not valid.", problems)
    return values["dryRun"] == "true", values["upload"] == "true"


OPTIONS = ("dryRun", "upload")


def upload_json(form: dict[str, Any], expires_in: int, max_bytes: int) -> dict[str, Any]:
    return {
        "url": form["url"],
        "fields": dict(form["fields"]),
        "expiresInSeconds": expires_in,
        "maxBytes": max_bytes,
    }


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
