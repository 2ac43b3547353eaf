"""The commands on `registrations.fifo`: one JSON body per message, one group per event.

Senders: the API (register, cancel, accept_offer, decline_offer, change_capacity, purge_event),
the import worker (register, with `importId` and `row`) and the offer sweep (expire_offer, with
`offerExpiresAt`). The registration worker is the only consumer.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib.events.domain import check_changes, offer_ttl
from chalicelib.registrations.domain import (
    AcceptOffer,
    Cancel,
    ChangeCapacity,
    Command,
    DeclineOffer,
    EventEdit,
    ExpireOffer,
    Reason,
    Register,
    Reject,
    RequestType,
)

MAX_DEDUPLICATION_ID = 128  # characters SQS takes in a MessageDeduplicationId


class CommandMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: RequestType
    requestId: Annotated[str, Field(min_length=1, max_length=200)]
    eventId: Annotated[str, Field(min_length=1, max_length=64)]
    userId: str | None = None
    capacity: Annotated[int, Field(ge=0)] | None = None
    changes: dict[str, Any] | None = None  # change_capacity: the other fields of the PUT
    importId: str | None = None
    row: int | None = None
    createdAt: str | None = None  # when the command was accepted (its record's; its place in line)
    requestedBy: str | None = None  # who made it (kept on its record: they may read it)
    expectedVersion: int | None = None  # change_capacity: the If-Match it was made with
    offerExpiresAt: str | None = None  # expire_offer: the offer it lapses
    continuation: int = 0  # re-queued this many times to finish work an invocation had no time for
    # Queued by an API that took a ticket per command (before the place in line came from
    # `createdAt`): accepted and ignored, so a deploy does not dead-letter commands in flight.
    ticket: int | None = Field(default=None, exclude=True)

    def to_command(self) -> Command:
        if self.type == RequestType.REGISTER and self.userId:
            return Register(self.requestId, self.userId, self.requestedBy)
        if self.type == RequestType.CANCEL and self.userId:
            return Cancel(self.requestId, self.userId)
        if self.type == RequestType.ACCEPT_OFFER and self.userId and self.createdAt:
            return AcceptOffer(self.requestId, self.userId, self.createdAt)
        if self.type == RequestType.DECLINE_OFFER and self.userId:
            return DeclineOffer(self.requestId, self.userId)
        if self.type == RequestType.EXPIRE_OFFER and self.userId and self.offerExpiresAt:
            return ExpireOffer(self.requestId, self.userId, self.offerExpiresAt)
        if self.type == RequestType.CHANGE_CAPACITY and self.capacity is not None:
            changes = self.changes or {}
            if check_changes(changes) is not None:
                return Reject(self.requestId, Reason.INVALID_CHANGE)
            status = changes.get("status")
            edit = EventEdit(
                is_open=None if status is None else status == "active",
                waitlist_enabled=changes.get("waitlistEnabled"),
                sets_offer="waitlistOffer" in changes,
                offer_ttl=offer_ttl(changes.get("waitlistOffer")),
                fields=tuple(changes.items()),
            )
            return ChangeCapacity(
                self.requestId,
                self.capacity,
                edit,
                expected_version=self.expectedVersion,
                accepted_at=self.createdAt or "",
            )
        raise MalformedMessage(f"a {self.type} command without its fields")

    def body(self) -> str:
        return self.model_dump_json(exclude_none=True)

    @property
    def deduplication_id(self) -> str:
        """SQS FIFO deduplication: the request id, so a retried send is dropped; a continuation
        is a new message for the same request. An id longer than SQS takes (a register's names
        its event and person, up to 162 characters) is sent as its SHA-256."""
        named = self.requestId if not self.continuation else f"{self.requestId}#c{self.continuation}"
        return named if len(named) <= MAX_DEDUPLICATION_ID else hashlib.sha256(named.encode()).hexdigest()

    def continued(self) -> CommandMessage:
        """This command again, as a continuation (same request, new message)."""
        return self.model_copy(update={"continuation": self.continuation + 1})


class MalformedMessage(ValueError):
    """A message no retry can fix: it goes straight to the dead-letter queue."""


def parse_message(body: str) -> CommandMessage:
    try:
        message = CommandMessage.model_validate(json.loads(body))
    except (ValueError, ValidationError) as error:
        raise MalformedMessage(str(error)) from None
    if message.type != RequestType.PURGE_EVENT:
        message.to_command()
    return message
