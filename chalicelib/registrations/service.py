"""Use cases that are accepted by the API and decided by the registration worker: register,
cancel, change an event's capacity, delete an event. Each becomes a pending request record plus a
command in the event's FIFO group; follow it with `request`. Also the registration listings.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from chalicelib.events.ports import EventRepository
from chalicelib.events.service import EventService
from chalicelib.registrations.domain import RequestStatus, RequestType
from chalicelib.registrations.items import marked_request_id
from chalicelib.registrations.lanes import passed_by, place_in_line
from chalicelib.registrations.messages import CommandMessage
from chalicelib.registrations.ports import (
    CommandQueue,
    IdempotencyKeyTaken,
    Lanes,
    QueueUnavailable,
    RegistrationQueries,
    RequestRecord,
    RequestRepository,
    WaitHolds,
)
from chalicelib.shared.caller import Caller
from chalicelib.shared.clock import Clock, IdGenerator
from chalicelib.shared.cursor import Position
from chalicelib.shared.problems import (
    EventNotOpen,
    Forbidden,
    IdempotencyKeyReused,
    NotFound,
    ServiceUnavailable,
)
from chalicelib.users.ports import UserRepository

# In an outcome, who took a freed seat (promoted into it, or offered it).
SEAT_TAKERS = frozenset({"promotedUserId", "offeredUserId"})


def fingerprint(method: str, path: str, body: Any) -> str:
    """What an Idempotency-Key is bound to: the same key may only repeat the same request (its
    method, its concrete path, ids included, and its body)."""
    canonical = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Idempotency:
    key: str
    fingerprint: str


WAITS_PER_SUBJECT = 2  # requests one subject may hold open at once with `Prefer: wait`
QUEUE_UNAVAILABLE = "queue_unavailable"  # failures: the queue refused the command
NOT_QUEUED = "not_queued"  # the lane decided later commands long ago: this one never arrived


@dataclass
class RequestSubmitter:
    """Records a request as pending and queues its command; never leaves one pending unqueued.
    A pending request's place in line is worked out from when it was accepted and what the worker
    last recorded of its event's lane (`placed`); a person's register or cancel while their
    earlier one for the event is pending is answered with that one instead of being queued again."""

    requests: RequestRepository
    queue: CommandQueue
    clock: Clock
    ids: IdGenerator
    lanes: Lanes

    def submit(
        self, message_fields: dict[str, Any], idempotency: Idempotency | None, one_pending: bool = False
    ) -> RequestRecord:
        """With `one_pending`, the request is kept as its user's mark for the event (one write),
        unless an Idempotency-Key asks for its own record too (claimed with the key)."""
        if idempotency is not None:
            first = self._first_answer(message_fields, idempotency)
            if first is not None:
                return self.placed(first)
        record = self._new_record(message_fields, one_pending)
        marked = False
        if one_pending:
            already, marked = self._already_pending(record)
            if already is not None:
                return self.placed(already)
        message = CommandMessage(requestId=record.request_id, createdAt=record.created_at, **message_fields)
        if not marked or idempotency is not None:
            first = self._record(record, message_fields, idempotency, marked)
            if first is not None:
                return self.placed(first)
        self._send(record, message, idempotency)
        return self.placed(record)

    def _new_record(self, message_fields: dict[str, Any], one_pending: bool) -> RequestRecord:
        event_id, user_id = message_fields["eventId"], message_fields.get("userId")
        request_id = self.ids.new_id()
        if one_pending and user_id is not None:
            request_id = marked_request_id(event_id, user_id, request_id)
        return RequestRecord(
            request_id=request_id,
            type=message_fields["type"],
            event_id=event_id,
            user_id=user_id,
            status=RequestStatus.PENDING,
            created_at=self.clock.now(),
            requested_by=message_fields.get("requestedBy"),
        )

    def _record(
        self,
        record: RequestRecord,
        message_fields: dict[str, Any],
        idempotency: Idempotency | None,
        marked: bool,
    ) -> RequestRecord | None:
        """The request's own record, with the Idempotency-Key claimed in the same write; None
        when written. A key already taken answers with its first request (sent again if still
        pending)."""
        claim = (idempotency.key, idempotency.fingerprint) if idempotency else None
        try:
            self.requests.create(record, claim)
        except IdempotencyKeyTaken as taken:
            assert idempotency is not None  # only a claimed key can be taken
            first = self._replay(taken.request_id, taken.fingerprint, message_fields, idempotency)
            if marked:  # the mark names a request that will never be sent: hand it to the first
                self.requests.take_over(first, record.request_id, self.clock.epoch_seconds())
            return first
        return None

    def placed(self, record: RequestRecord) -> RequestRecord:
        """A pending request with where it stands in its lane (one read of the lane)."""
        if record.status != RequestStatus.PENDING:
            return record
        progress = self.lanes.progress(record.event_id)
        return replace(record, place=place_in_line(record.created_at, progress, self.clock.now()))

    def _already_pending(self, record: RequestRecord) -> tuple[RequestRecord | None, bool]:
        """The user's command for the event that is still pending, if any; else whether `record`
        is marked as theirs now. A mark left by a decided or failed request is taken over, and so
        is one whose request the lane has passed by (never queued: it is failed, `not_queued`)."""
        for _ in range(3):
            now = self.clock.epoch_seconds()
            holder = self.requests.claim(record, now)
            if holder is None:
                return None, True
            held = self.requests.get(holder.request_id)
            if held is not None and held.status == RequestStatus.PENDING:
                if not passed_by(self.lanes.progress(held.event_id), held.created_at):
                    return held, False
                self.requests.mark_failed(held, NOT_QUEUED, self.clock.now())
            if self.requests.take_over(record, holder.request_id, now):
                return None, True
        return None, False  # marks changing under us: queue it (the worker decides a repeat correctly)

    def _send(self, record: RequestRecord, message: CommandMessage, idempotency: Idempotency | None) -> None:
        try:
            self.queue.send(message)
        except QueueUnavailable:
            self.requests.mark_failed(record, QUEUE_UNAVAILABLE, self.clock.now())
            if idempotency is not None:
                self.requests.release_idempotency(idempotency.key)
            raise ServiceUnavailable("The registration queue is unavailable; retry shortly.") from None

    def _first_answer(self, message_fields: dict[str, Any], idempotency: Idempotency) -> RequestRecord | None:
        taken = self.requests.find_idempotent(idempotency.key)
        if taken is None:
            return None
        return self._replay(taken[0], taken[1], message_fields, idempotency)

    def _replay(
        self,
        request_id: str,
        first_fingerprint: str,
        message_fields: dict[str, Any],
        idempotency: Idempotency,
    ) -> RequestRecord:
        """The first answer again. A first request still pending is sent again: its first send
        may never have happened (a crash between recording and sending), and a second send of
        the same request id is harmless (FIFO deduplication, then the worker's completed check)."""
        if first_fingerprint != idempotency.fingerprint:
            raise IdempotencyKeyReused("This Idempotency-Key was used for a different request.")
        record = self.requests.get(request_id)
        if record is None:
            raise NotFound(f"No request with requestId '{request_id}'.")
        if record.status == RequestStatus.PENDING:
            message = CommandMessage(
                requestId=record.request_id, createdAt=record.created_at, **message_fields
            )
            self._send(record, message, idempotency)
        return record


@dataclass
class RegistrationService:
    """Attendees register and cancel themselves; an event's owner and admins may register and
    cancel anyone, and see the event's attendees. A request is visible to whoever made it, the
    event's owner and admins; a user's registrations to that user and admins."""

    events: EventService
    users: UserRepository
    requests: RequestRepository
    queries: RegistrationQueries
    submitter: RequestSubmitter
    holds: WaitHolds
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    monotonic: Callable[[], float] = field(default=time.monotonic, repr=False)

    def register(
        self, caller: Caller, event_id: str, user_id: str | None, idempotency: Idempotency | None
    ) -> RequestRecord:
        subject = caller.require()
        event = self.events.get(caller, event_id)
        user_id = user_id or subject
        if user_id != subject and not caller.owns(event.owner_id):
            raise Forbidden(
                "You may register only yourself; the event's owner and admins may register others."
            )
        if user_id == subject:
            self._user(user_id)  # an attendee signs up before registering
        # An owner registering someone else names a user id, known or not, and is never told which
        # (as with an import): the answer is the same, and the attendee list shows no stranger's
        # contact details.
        if not event.is_open:
            raise EventNotOpen(f"Event '{event_id}' is {event.status.value}, not open for registration.")
        fields = {
            "type": RequestType.REGISTER,
            "eventId": event_id,
            "userId": user_id,
            "requestedBy": subject,
        }
        return self.submitter.submit(fields, idempotency, one_pending=True)

    def cancel(
        self, caller: Caller, event_id: str, user_id: str, idempotency: Idempotency | None
    ) -> RequestRecord:
        return self._for_registration(
            RequestType.CANCEL, caller, event_id, user_id, idempotency, one_pending=True
        )

    def accept_offer(
        self, caller: Caller, event_id: str, user_id: str, idempotency: Idempotency | None
    ) -> RequestRecord:
        """Take the seat offered to `user_id`: confirmed if asked before the offer expires."""
        return self._for_registration(RequestType.ACCEPT_OFFER, caller, event_id, user_id, idempotency)

    def decline_offer(
        self, caller: Caller, event_id: str, user_id: str, idempotency: Idempotency | None
    ) -> RequestRecord:
        """Turn the offered seat down: it is offered to the next in line."""
        return self._for_registration(RequestType.DECLINE_OFFER, caller, event_id, user_id, idempotency)

    def _for_registration(
        self,
        type_: str,
        caller: Caller,
        event_id: str,
        user_id: str,
        idempotency: Idempotency | None,
        one_pending: bool = False,
    ) -> RequestRecord:
        """A request about one user's registration: theirs to make, or the event's owner's."""
        subject = caller.require()
        event = self.events.get(caller, event_id)
        if not (caller.is_user(user_id) or caller.owns(event.owner_id)):
            raise NotFound(f"No user with userId '{user_id}'.")  # not theirs to know about
        if caller.is_user(user_id):
            self._user(user_id)  # the owner is never told whether a user id exists
        fields = {"type": type_, "eventId": event_id, "userId": user_id, "requestedBy": subject}
        return self.submitter.submit(fields, idempotency, one_pending)

    def request(self, caller: Caller, request_id: str, wait: float = 0) -> RequestRecord:
        """The request; with `wait`, once decided or after `wait` seconds, whichever is first."""
        caller.require()
        record = self.requests.get(request_id)
        if record is None or not self._may_see(caller, record):
            raise NotFound(f"No request with requestId '{request_id}'.")
        return self.submitter.placed(self.shown_to(caller, self.waited(caller, record, wait)))

    def waited(self, caller: Caller, record: RequestRecord, wait: float) -> RequestRecord:
        """`outcome`, as long as the caller holds fewer than WAITS_PER_SUBJECT requests open
        waiting; past that, the request as it is now (the preference is not applied)."""
        if wait <= 0 or record.status != RequestStatus.PENDING:
            return record
        subject = caller.subject or ""
        if not self.holds.acquire(subject, self.submitter.clock.epoch_seconds(), WAITS_PER_SUBJECT):
            return record
        try:
            return self.outcome(record, wait)
        finally:
            self.holds.release(subject)

    def shown_to(self, caller: Caller, record: RequestRecord) -> RequestRecord:
        """The request as `caller` may see it: who took a freed seat (promoted, or offered it) is
        the event owner's and the admins' to know, not the attendee's who left."""
        outcome = record.outcome or {}
        if not SEAT_TAKERS & outcome.keys() or caller.is_admin:
            return record
        if caller.is_user(self.events.owner_of(record.event_id)):
            return record
        return replace(record, outcome={k: v for k, v in outcome.items() if k not in SEAT_TAKERS})

    def outcome(self, record: RequestRecord, wait: float) -> RequestRecord:
        """Poll a pending request until it is decided or `wait` seconds pass (`Prefer: wait=N`;
        on AWS the API Lambda is billed while it waits). Reads back off from 50 ms to 500 ms."""
        deadline, pause = self.monotonic() + wait, 0.05
        while record.status == RequestStatus.PENDING:
            left = deadline - self.monotonic()
            if left <= 0:
                break
            self.sleep(min(pause, left))
            pause = min(pause * 2, 0.5)
            record = self.requests.get(record.request_id) or record
        return record

    def _may_see(self, caller: Caller, record: RequestRecord) -> bool:
        if caller.is_admin or caller.is_user(record.requested_by):
            return True
        return caller.is_user(self.events.owner_of(record.event_id))

    def for_event(
        self, caller: Caller, event_id: str, status: str, limit: int, after: Position | None
    ) -> tuple[list[dict[str, Any]], Position | None]:
        """The event's attendees: for its owner and admins only. An attendee's name and email are
        shown only when they registered themselves: an owner may register any user id (or import
        it), and must not learn a stranger's contact details by doing so."""
        self.events.owned(caller, event_id)
        rows, next_position = self.queries.for_event(event_id, status, limit, after)
        themselves = [row["userId"] for row in rows if row.pop("registeredBy", None) == row["userId"]]
        users = self.users.get_many(themselves)
        for row in rows:
            user = users.get(row["userId"])
            if user is not None:
                row.update(name=user.name, email=user.email)
        return rows, next_position

    def for_user(
        self, caller: Caller, user_id: str, status: str, limit: int, after: Position | None
    ) -> tuple[list[dict[str, Any]], Position | None]:
        caller.require()
        if not (caller.is_user(user_id) or caller.is_admin):
            raise NotFound(f"No user with userId '{user_id}'.")
        self._user(user_id)
        rows, next_position = self.queries.for_user(user_id, status, limit, after)
        for row in rows:
            row.pop("registeredBy", None)
        return rows, next_position

    def _user(self, user_id: str) -> None:
        if self.users.get(user_id) is None:
            raise NotFound(f"No user with userId '{user_id}'.")


@dataclass
class SeatChanges:
    """An organizer's changes that touch seats. They go through the event's queue group, so the
    worker promotes waitlisted users into new seats in the same transaction that adds them, and a
    deleted event's registrations are purged in order with everything queued before."""

    events: EventService
    repository: EventRepository
    submitter: RequestSubmitter
    ids: IdGenerator

    def change_capacity(
        self,
        caller: Caller,
        event_id: str,
        changes: dict[str, Any],
        if_match: int | None,
        idempotency: Idempotency | None,
    ) -> RequestRecord:
        self.events.owned(caller, event_id, if_match)
        others = {name: value for name, value in changes.items() if name != "capacity"}
        fields = {
            "type": RequestType.CHANGE_CAPACITY,
            "eventId": event_id,
            "capacity": changes["capacity"],
            "changes": others,
            "requestedBy": caller.subject,
            "expectedVersion": if_match,  # checked again when it is decided, in the queue's order
        }
        return self.submitter.submit(fields, idempotency)

    def delete_event(self, caller: Caller, event_id: str) -> None:
        """Hide the event now; the worker removes it and its registrations in the event's order.
        A retry finds it hidden and queues the purge again (the first may never have been sent):
        nothing stays half deleted."""
        try:
            self.events.owned(caller, event_id)
            if not self.repository.mark_deleting(event_id):
                raise NotFound(f"No event with eventId '{event_id}'.")  # hidden meanwhile
            marked_now = True
        except NotFound:
            unfinished = self.repository.deleting(event_id)
            if unfinished is None or not caller.owns(unfinished.owner_id):
                raise
            marked_now = False
        try:
            self.submitter.queue.send(
                CommandMessage(requestId=self.ids.new_id(), type=RequestType.PURGE_EVENT, eventId=event_id)
            )
        except QueueUnavailable:
            if marked_now:
                self.repository.unmark_deleting(event_id)
            raise ServiceUnavailable("The registration queue is unavailable; retry shortly.") from None
