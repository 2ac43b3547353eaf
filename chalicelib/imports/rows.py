"""Import payloads as rows: parse CSV or JSON and check every row. Pure: no I/O, no clock.

Row numbers are 1-based data rows, in file order (the CSV header and blank lines are not rows).
A row is checked like `POST /users` (userId, name, email rules); a user may appear once per file;
name and email are checked but not stored: an import never creates or changes a profile.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field, StrictStr, TypeAdapter, ValidationError

from chalicelib.shared.problems import (
    BadRequest,
    FieldError,
    MalformedJson,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)
from chalicelib.shared.wire import Email, Identifier

MAX_ROWS = 100_000
MAX_BYTES = 10 * 1024 * 1024  # a file sent in the request body (API Gateway allows 10 MB)
MAX_UPLOAD_BYTES = 64 * 1024 * 1024  # a file uploaded to S3 with a presigned form
CSV, JSON = "text/csv", "application/json"
COLUMNS = ("userId", "name", "email")
_EXTRA_CELLS = "\x00extra"  # marks a CSV record with more cells than the header

_USER_ID = TypeAdapter(Identifier)
_NAME = TypeAdapter(Annotated[StrictStr, Field(min_length=1, max_length=200)])
_EMAIL = TypeAdapter(Email)


@dataclass(frozen=True)
class Row:
    row: int
    user_id: str
    name: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    message: str


@dataclass(frozen=True)
class Checked:
    total: int
    rows: list[Row]  # rows without errors, in file order
    errors: list[RowError]  # ordered by row

    @property
    def invalid(self) -> int:
        return len({e.row for e in self.errors})


def media_type(content_type: str | None) -> str:
    """`text/csv` or `application/json` from a Content-Type header; anything else is a 415."""
    value = (content_type or "").split(";")[0].strip().lower()
    if value == CSV:
        return CSV
    if value == JSON or (value.startswith("application/") and value.endswith("+json")):
        return JSON
    shown = value or "none"
    raise UnsupportedMediaType(f"Send the rows as {CSV} or {JSON}, not '{shown}'.")


def parse_payload(kind: str, body: bytes, max_bytes: int = MAX_BYTES) -> list[Any]:
    """The raw rows of a payload (dicts, or anything a JSON array held), at most MAX_ROWS."""
    if len(body) > max_bytes:
        raise PayloadTooLarge(f"An import is at most {max_bytes} bytes; this one is {len(body)}.")
    return _parse_csv(body) if kind == CSV else _parse_json(body)


def _too_many() -> PayloadTooLarge:
    return PayloadTooLarge(f"An import has at most {MAX_ROWS} rows.")


def _parse_csv(body: bytes) -> list[Any]:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadRequest("The CSV file is not UTF-8 text.") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [cell.strip() for cell in next(reader, [])]
        _check_header(header)
        rows: list[Any] = []
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            if len(rows) == MAX_ROWS:
                raise _too_many()
            row: dict[str, Any] = {
                name: cell.strip() for name, cell in zip(header, record, strict=False) if name
            }
            if len(record) > len(header):
                row[_EXTRA_CELLS] = len(record)
            rows.append(row)
    except csv.Error as error:
        raise BadRequest(f"The CSV file is malformed at line {reader.line_num}: {error}.") from None
    return rows


def _check_header(header: list[str]) -> None:
    if not any(header):
        raise ValidationFailed(
            "The CSV file has no header row.",
            [FieldError("header", f"must name the columns: {', '.join(COLUMNS)}")],
        )
    problems = [FieldError(name, "is not a known column") for name in header if name not in COLUMNS]
    problems += [
        FieldError(name, "appears twice in the header") for name in COLUMNS if header.count(name) > 1
    ]
    if "userId" not in header:
        problems.append(FieldError("userId", "the header has no userId column"))
    if problems:
        raise ValidationFailed("The CSV header is not valid.", problems)


def _parse_json(body: bytes) -> list[Any]:
    try:
        payload = json.loads(body)
    except RecursionError:
        raise MalformedJson("The request body is nested too deeply.") from None
    except ValueError as error:  # not UTF-8, not JSON, or a number too long to convert
        raise MalformedJson(f"The request body is not valid JSON: {error}.") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("rows"), list):
        raise ValidationFailed(
            "The request body must be an object with a rows array.",
            [FieldError("rows", "must be an array of {userId, name, email} objects")],
        )
    unknown = [FieldError(name, "is not a known field") for name in payload if name != "rows"]
    if unknown:
        raise ValidationFailed("The request body has unknown fields.", unknown)
    if len(payload["rows"]) > MAX_ROWS:
        raise _too_many()
    rows: list[Any] = payload["rows"]
    return rows


def check_rows(raw_rows: list[Any]) -> Checked:
    """Check each row on its own, and that no user appears twice (the later rows are errors)."""
    rows: list[Row] = []
    errors: list[RowError] = []
    first_row: dict[str, int] = {}
    for number, raw in enumerate(raw_rows, start=1):
        row, problems = _check_row(number, raw)
        user_id = raw.get("userId") if isinstance(raw, dict) else None
        if isinstance(user_id, str) and user_id:
            if user_id in first_row:
                problems.append(
                    RowError(number, "userId", f"user '{user_id}' is already in row {first_row[user_id]}")
                )
            else:
                first_row[user_id] = number
        if problems:
            errors += problems
        elif row is not None:
            rows.append(row)
    return Checked(total=len(raw_rows), rows=rows, errors=errors)


def _check_row(number: int, raw: Any) -> tuple[Row | None, list[RowError]]:
    if not isinstance(raw, dict):
        return None, [RowError(number, "row", "must be an object with userId, name and email")]
    problems: list[RowError] = []
    if _EXTRA_CELLS in raw:
        problems.append(RowError(number, "row", f"has {raw[_EXTRA_CELLS]} cells, more than the header"))
    known = (*COLUMNS, _EXTRA_CELLS)
    problems += [RowError(number, str(f), "is not a known field") for f in raw if f not in known]
    user_id = raw.get("userId")
    if user_id is None or user_id == "":
        problems.append(RowError(number, "userId", "is required"))
    else:
        problems += _check(number, "userId", _USER_ID, user_id)
    name, email = _optional(raw.get("name")), _optional(raw.get("email"))
    if name is not None:
        problems += _check(number, "name", _NAME, name)
    if email is not None:
        problems += _check(number, "email", _EMAIL, email)
    if problems:
        return None, problems
    return Row(number, str(user_id), name, email), []


def _optional(value: Any) -> Any:
    return None if value is None or value == "" else value


def _check(number: int, field: str, adapter: TypeAdapter[Any], value: Any) -> list[RowError]:
    try:
        adapter.validate_python(value)
    except ValidationError as error:
        message = error.errors()[0]["msg"].removeprefix("Value error, ")
        return [RowError(number, field, message)]
    return []


def merge_errors(*groups: list[RowError]) -> list[RowError]:
    return sorted((e for group in groups for e in group), key=lambda e: e.row)
