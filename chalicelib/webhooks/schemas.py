"""Wire schemas of the webhooks API (strict, unknown fields refused)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StrictBool, StrictStr

from chalicelib.schemas import WireModel
from chalicelib.webhooks.notifications import EVENT_TYPES


def _event_types(values: list[str]) -> list[str]:
    unknown = [v for v in values if v not in EVENT_TYPES]
    if unknown:
        raise ValueError(f"unknown event type(s) {', '.join(unknown)}; known: {', '.join(EVENT_TYPES)}")
    return list(dict.fromkeys(values))  # keep order, drop repeats


EventTypes = Annotated[list[StrictStr], Field(min_length=1, max_length=len(EVENT_TYPES) * 2)]
Url = Annotated[StrictStr, Field(min_length=1, max_length=2048)]
Description = Annotated[StrictStr, Field(max_length=500)]


class WebhookCreate(WireModel):
    url: Url
    events: Annotated[EventTypes, AfterValidator(_event_types)]
    description: Description = ""


class WebhookUpdate(WireModel):
    url: Url | None = None
    events: Annotated[EventTypes, AfterValidator(_event_types)] | None = None
    enabled: StrictBool | None = None
    description: Description | None = None
