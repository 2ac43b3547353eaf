"""What the registration services need from the world: request records, the command queue,
listings, and the worker's seat store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from chalicelib.events.domain import Event
from chalicelib.registrations.domain import EventSeats, Plan, RequestStatus, RequestType
from chalicelib.registrations.lanes import LaneProgress, Place
from chalicelib.registrations.messages import CommandMessage
from chalicelib.shared.cursor import Position


@dataclass(frozen=True)
class RequestRecord:
    """An accepted asynchronous request and, once decided, its outcome (wire-shaped dict)."""

    request_id: str
    type: RequestType
    event_id: str
    user_id: str | None
    status: RequestStatus
    created_at: str
    outcome: dict[str, Any] | None = None
    completed_at: str | None = None
    failure: str | None = None
    requested_by: str | None = None  # the subject who made it (None: an import's row)
    import_id: str | None = None  # an import's row: its import, and its row there
    row: int | None = None
    place: Place | None = None  # pending: where it stands now (worked out, never stored)


class IdempotencyKeyTaken(Exception):
    """The Idempotency-Key was already used; carries what it was used for."""

    def __init__(self, request_id: str, fingerprint: str) -> None:
        super().__init__(request_id)
        self.request_id = request_id
        self.fingerprint = fingerprint


class QueueUnavailable(Exception):
    """The queue could not take the message (network, throttling, misconfiguration)."""


class ConcurrentChange(Exception):
    """Another writer changed the event between load and commit: load again and re-decide."""


class RequestRepository(Protocol):
    def create(self, record: RequestRecord, idempotency: tuple[str, str] | None) -> None:
        """Store a pending request; with (key, fingerprint), claim the key in the same write.

        Raises IdempotencyKeyTaken when the key is already claimed."""
        ...

    def claim(self, record: RequestRecord, now: int) -> RequestRecord | None:
        """Keep pending `record` as its user's pending command for its event (their mark, which
        stays, as their list of events), unless one is marked already: then
        the request that mark holds (None: marked now). While it is the mark's, `get` finds the
        record by its id, which must name the event and the user (`items.marked_request_id`)."""
        ...

    def take_over(self, record: RequestRecord, holder: str, now: int) -> bool:
        """Mark `record` in place of request `holder` (decided since); False when the mark is no
        longer `holder`'s."""
        ...

    def get(self, request_id: str) -> RequestRecord | None: ...

    def existing(self, request_ids: list[str]) -> set[str]:
        """Which of these requests have a record of their own (one kept only as its user's mark
        has none until it is decided)."""
        ...

    def find_idempotent(self, key: str) -> tuple[str, str] | None:
        """(request id, fingerprint) the key was first used for, if any."""
        ...

    def mark_failed(self, record: RequestRecord, reason: str, now: str) -> bool:
        """A pending request becomes failed; False (and no change) when it is not pending."""
        ...

    def release_idempotency(self, key: str) -> None: ...


class Lanes(Protocol):
    """An event's lane: what the worker last recorded of its progress (lanes.py)."""

    def progress(self, event_id: str) -> LaneProgress: ...


HOLD_SECONDS = 15  # longer than any wait (MAX_WAIT_SECONDS): a lost release heals after it


class WaitHolds(Protocol):
    """How many requests each subject holds open waiting for an outcome (`Prefer: wait`)."""

    def acquire(self, subject: str, now: int, most: int) -> bool:
        """One more hold for `subject`, unless they hold `most` already. A hold whose release was
        lost is forgotten HOLD_SECONDS after the subject's last acquire."""
        ...

    def release(self, subject: str) -> None: ...


class CommandQueue(Protocol):
    def send(self, message: CommandMessage) -> None:
        """One command in its event's FIFO group. Raises QueueUnavailable."""
        ...


class RegistrationQueries(Protocol):
    def for_event(
        self, event_id: str, status: str, limit: int, after: Position | None
    ) -> tuple[list[dict[str, Any]], Position | None]: ...

    def for_user(
        self, user_id: str, status: str, limit: int, after: Position | None
    ) -> tuple[list[dict[str, Any]], Position | None]: ...


@dataclass(frozen=True)
class StoredWaitlist:
    """The DynamoDB store's items of the waitlist's order that a commit may rewrite: the joiners
    items read (first place -> place -> user id), and which of them each loaded waitlisted
    registration is in (user id -> first place; none: an entry of LSI1)."""

    joiners: dict[int, dict[int, str]] = field(default_factory=dict)
    joined: dict[str, int] = field(default_factory=dict)


@dataclass
class Snapshot:
    """One event's seats as loaded for a decision, and the seat version the commit requires
    (`seats.version` is the other one: the event's editable version, its ETag)."""

    seats: EventSeats
    seat_version: int
    request_status: dict[str, RequestStatus | None] = field(default_factory=dict)  # None: no request item
    loaded: Event | None = None  # the event item as read (the DynamoDB store commits against it)
    lane: LaneProgress = field(default_factory=LaneProgress)  # as recorded with the last commit
    # user id -> the decision their registration item keeps of the request that made it
    # (`items.DECISION`), which a commit carries on or moves to a request item
    kept: dict[str, dict[str, Any]] = field(default_factory=dict)
    waitlist: StoredWaitlist = field(default_factory=StoredWaitlist)

    def is_pending(self, request_id: str) -> bool:
        return self.request_status.get(request_id) in (None, RequestStatus.PENDING)


@dataclass(frozen=True)
class DueOffer:
    event_id: str
    user_id: str
    expires_at: str


class OpenOffers(Protocol):
    def due(self, now: str, limit: int) -> list[DueOffer]:
        """Open waitlist offers that expire at or before `now`, the oldest first."""
        ...


class SeatStore(Protocol):
    def load(self, event_id: str, user_ids: set[str], request_ids: set[str], waitlist_size: int) -> Snapshot:
        """The event's seats, the registrations of `user_ids`, the head of the waitlist
        (`waitlist_size` entries) and the status of `request_ids`, read consistently."""
        ...

    def commit(self, snapshot: Snapshot, plan: Plan, requests: dict[str, RequestRecord], now: str) -> None:
        """Write `plan` atomically, completing the records of the `requests` it decides (by
        request id). Raises ConcurrentChange when the event changed since `load` or a request in
        the plan was already completed."""
        ...

    def purge(self, event_id: str, time_left: Callable[[], float] | None = None) -> tuple[int, bool]:
        """Delete a deleted event's registrations, then the event, in pages while `time_left`
        allows: (how many were deleted, whether it is finished). Safe to repeat."""
        ...


class DeadLetters(Protocol):
    def send(self, record: dict[str, Any], reason: str) -> None:
        """Move a message no retry can fix to the dead-letter queue."""
        ...
