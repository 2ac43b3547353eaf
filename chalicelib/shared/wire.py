"""Wire basics (pydantic) every feature's `wire.py` builds on: strict models, common field types,
and `parse`, which turns a validation failure into a 422 naming each offending field.

Names are camelCase on the wire. Unknown fields are rejected, types are strict (no "5" for 5).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
)

from chalicelib.shared.problems import FieldError, ValidationFailed

ID_CHARACTERS = r"[A-Za-z0-9_-]{1,64}"  # what every id is: no dot, so ids joined by dots stay apart
ID_PATTERN = rf"^{ID_CHARACTERS}$"
# A request's id: an id, or one that names the event and the person it is for as well
# (`{eventId}.{userId}.{unique}`: a register or cancel, found by its person's mark)
REQUEST_ID_PATTERN = rf"^({ID_CHARACTERS}\.{ID_CHARACTERS}\.)?{ID_CHARACTERS}$"
PATH_ID_PATTERNS = {"requestId": REQUEST_ID_PATTERN}  # a path's other ids (`...Id`) are ID_PATTERN
_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,63}$")
MAX_CAPACITY = 1_000_000
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def _iso_date_or_datetime(value: str) -> str:
    """An ISO 8601 date or date-time that has a UTC instant (events are ordered by it)."""
    try:
        if "T" in value or " " in value:
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is not None:
                moment.astimezone(UTC)  # 9999-12-31T23:59:59-05:00 is past year 9999 in UTC
        else:
            date.fromisoformat(value)
    except (ValueError, OverflowError):
        raise ValueError(
            "must be an ISO 8601 date (2025-06-01) or date-time within years 1-9999 UTC"
        ) from None
    return value


def _email(value: str) -> str:
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError("must be a valid email address")
    return value


Identifier = Annotated[StrictStr, Field(pattern=ID_PATTERN)]
IsoDate = Annotated[StrictStr, Field(max_length=64), AfterValidator(_iso_date_or_datetime)]
Email = Annotated[StrictStr, AfterValidator(_email)]
Capacity = Annotated[StrictInt, Field(ge=0, le=MAX_CAPACITY)]


class WireModel(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=False)


_LIMIT = f"Items per page (default {DEFAULT_PAGE_SIZE})."


class PageQuery(WireModel):
    """The query parameters of every listing (`shared.http.listing` reads them)."""

    limit: Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE, description=_LIMIT)] | None = None
    cursor: Annotated[str, Field(description="The `nextCursor` of the page before.")] | None = None


class Shown(BaseModel):
    """What a response body is (the OpenAPI document's schemas): no field it does not list."""

    model_config = ConfigDict(extra="forbid")


Model = TypeVar("Model", bound=BaseModel)


def parse(model: type[Model], payload: Any, where: str = "body") -> Model:
    """Validate `payload` (the request's `body`, or its `query` string) against `model`, raising
    ValidationFailed with one entry per offending field."""
    part = "query string" if where == "query" else "request body"
    if not isinstance(payload, dict):
        raise ValidationFailed(
            f"The {part} must be a JSON object.", [FieldError(where, "must be a JSON object")]
        )
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        raise ValidationFailed(
            f"The {part} has invalid fields.",
            [_field_error(item) for item in error.errors()],
        ) from None


def reject_nulls(payload: dict[str, Any], nullable: frozenset[str] = frozenset()) -> None:
    """An update may omit a field but not null it: null is not a value of any field but those
    `nullable` (where null means "none", as `waitlistOffer: null` turns offers off)."""
    nulls = [
        FieldError(name, "must not be null")
        for name, value in payload.items()
        if value is None and name not in nullable
    ]
    if nulls:
        raise ValidationFailed("The request body has invalid fields.", nulls)


def _field_error(item: Any) -> FieldError:
    location = ".".join(str(part) for part in item["loc"]) or "body"
    message = item["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    return FieldError(location, message)
