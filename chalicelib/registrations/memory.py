"""Registrations in memory: requests, the command queue, listings and the worker's seat store,
with the same contracts as the DynamoDB and SQS adapters (tests/contracts prove it)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from chalicelib.events.domain import offer_ttl
from chalicelib.registrations.domain import (
    ACTIVE,
    ACTIVE_VIEW,
    Change,
    Complete,
    Confirm,
    EndOffer,
    EventSeats,
    JoinWaitlist,
    Offer,
    Outcome,
    OutcomeKind,
    Plan,
    Promote,
    Registration,
    Release,
    Standing,
    TakeOffer,
)
from chalicelib.registrations.lanes import LaneProgress, progressed
from chalicelib.registrations.messages import CommandMessage
from chalicelib.registrations.ports import (
    HOLD_SECONDS,
    ConcurrentChange,
    DueOffer,
    IdempotencyKeyTaken,
    Mark,
    QueueUnavailable,
    RequestRecord,
    Snapshot,
)
from chalicelib.shared.cursor import Position


class MemoryRequestRepository:
    def __init__(self) -> None:
        self.records: dict[str, RequestRecord] = {}
        self.claims: dict[str, tuple[str, str]] = {}
        self._lock = threading.Lock()

    def create(self, record: RequestRecord, idempotency: tuple[str, str] | None) -> None:
        with self._lock:
            if idempotency is not None:
                key, fingerprint = idempotency
                if key in self.claims:
                    raise IdempotencyKeyTaken(*self.claims[key])
                self.claims[key] = (record.request_id, fingerprint)
            self.records[record.request_id] = record

    def get(self, request_id: str) -> RequestRecord | None:
        return self.records.get(request_id)

    def find_idempotent(self, key: str) -> tuple[str, str] | None:
        return self.claims.get(key)

    def existing(self, request_ids: list[str]) -> set[str]:
        return {r for r in request_ids if r in self.records}

    def mark_failed(self, request_id: str, reason: str, now: str) -> bool:
        with self._lock:
            record = self.records.get(request_id)
            if record is None or record.status != "pending":
                return False
            self.records[request_id] = replace(record, status="failed", failure=reason, completed_at=now)
            return True

    def release_idempotency(self, key: str) -> None:
        self.claims.pop(key, None)


class MemoryCommandQueue:
    """Keeps what was sent; `available = False` makes every send fail like an unreachable queue."""

    def __init__(self) -> None:
        self.sent: list[CommandMessage] = []
        self.available = True

    def send(self, message: CommandMessage) -> None:
        if not self.available:
            raise QueueUnavailable("queue unreachable (test)")
        self.sent.append(message)


class MemoryRegistrationQueries:
    """Registration rows kept in lists, listed in insertion order (tests add rows directly)."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def for_event(
        self, event_id: str, status: str, limit: int, after: Position | None
    ) -> tuple[list[dict[str, Any]], Position | None]:
        matching = [r for r in self.rows if r["eventId"] == event_id and r["status"] == status]
        return self._page(matching, limit, after)

    def for_user(
        self, user_id: str, status: str, limit: int, after: Position | None
    ) -> tuple[list[dict[str, Any]], Position | None]:
        shown = [s.value for s in ACTIVE_VIEW] if status == ACTIVE else [status]
        mine = [r for r in self.rows if r["userId"] == user_id and r["status"] in shown]
        return self._page(sorted(mine, key=lambda r: shown.index(r["status"])), limit, after)

    @staticmethod
    def _page(
        rows: list[dict[str, Any]], limit: int, after: Position | None
    ) -> tuple[list[dict[str, Any]], Position | None]:
        start = int(after.get("offset", 0)) if after else 0
        page = rows[start : start + limit]
        more = start + limit < len(rows)
        return page, ({"offset": start + limit} if more else None)


class MemorySeatStore:
    """The registration worker's store in memory, with the same version check as DynamoDB's.

    Used by fast tests of the decision service and by the property tests' many examples.
    """

    def __init__(self) -> None:
        self.events: dict[str, dict[str, Any]] = {}  # event id -> capacity, open, waitlist, counters
        self.registrations: dict[str, dict[str, Registration]] = {}
        self.outcomes: dict[str, Outcome] = {}
        self.commits = 0

    def add_event(
        self,
        event_id: str,
        capacity: int,
        waitlist_enabled: bool,
        is_open: bool = True,
        offer_ttl: int | None = None,
    ) -> None:
        self.events[event_id] = {
            "offer_ttl": offer_ttl,
            "offered": 0,
            "capacity": capacity,
            "is_open": is_open,
            "waitlist_enabled": waitlist_enabled,
            "confirmed": 0,
            "waitlisted": 0,
            "next_wait_seq": 1,
            "version": 1,  # the seat version (every decision); edit_version is the ETag's
            "edit_version": 1,
            "changed_at": "",
            "lane": LaneProgress(),
        }
        self.registrations[event_id] = {}

    def load(self, event_id: str, user_ids: set[str], request_ids: set[str], waitlist_size: int) -> Snapshot:
        statuses = {r: ("completed" if r in self.outcomes else None) for r in request_ids}
        event = self.events.get(event_id)
        if event is None:
            return Snapshot(EventSeats(event_id, False, False, 0, False, 0, 0, 0), 0, statuses)
        registrations = self.registrations[event_id]
        waiting = sorted(
            (r for r in registrations.values() if r.standing is Standing.WAITLISTED),
            key=lambda r: r.wait_seq or 0,
        )
        head = waiting[:waitlist_size]
        known = {u: registrations[u] for u in user_ids if u in registrations}
        known.update({r.user_id: r for r in head})
        seats = EventSeats(
            event_id=event_id,
            exists=True,
            is_open=event["is_open"],
            capacity=event["capacity"],
            waitlist_enabled=event["waitlist_enabled"],
            confirmed=event["confirmed"],
            waitlisted=event["waitlisted"],
            next_wait_seq=event["next_wait_seq"],
            registrations=known,
            waitlist=[r.user_id for r in head],
            waitlist_complete=len(waiting) <= waitlist_size,
            version=event["edit_version"],
            changed_at=event["changed_at"],
            offered=event["offered"],
            offer_ttl=event["offer_ttl"],
        )
        return Snapshot(seats, event["version"], statuses, lane=event["lane"])

    def edit(self, event_id: str, **changes: Any) -> None:
        """What an organizer's edit through the API does to the event (`is_open`, `offer_ttl`):
        applied at once, and it moves the event's (editable) version."""
        event = self.events[event_id]
        event.update(**changes, edit_version=event["edit_version"] + 1)

    def commit(self, snapshot: Snapshot, plan: Plan, messages: dict[str, CommandMessage], now: str) -> None:
        event_id = snapshot.seats.event_id
        event = self.events.get(event_id)
        if (event["version"] if event else 0) != snapshot.seat_version:
            raise ConcurrentChange(event_id)
        if event is not None and event["edit_version"] != snapshot.seats.version:
            raise ConcurrentChange(event_id)  # edited between load and commit
        if any(r in self.outcomes for r in [*plan.outcomes, plan.continuing]):
            raise ConcurrentChange(event_id)
        self.commits += 1
        for change in plan.changes:
            self._apply(event_id, change)
        if event is not None:
            event.update(
                confirmed=plan.confirmed,
                waitlisted=plan.waitlisted,
                offered=plan.offered,
                next_wait_seq=plan.next_wait_seq,
                version=event["version"] + 1,
                edit_version=plan.version,
                changed_at=plan.changed_at,
            )
            decided = [messages[r] for r in plan.outcomes if r in messages]
            event["lane"] = progressed(event["lane"], [m.ticket for m in decided], len(decided), now)
            if plan.capacity is not None:
                event["capacity"] = plan.capacity
            applied = {r for r, o in plan.outcomes.items() if o.kind == OutcomeKind.CAPACITY_CHANGED}
            for message in messages.values():
                changes = message.changes or {}
                if "status" in changes and message.requestId in applied:
                    event["is_open"] = changes["status"] == "active"
                if "waitlistEnabled" in changes and message.requestId in applied:
                    event["waitlist_enabled"] = changes["waitlistEnabled"]
                if "waitlistOffer" in changes and message.requestId in applied:
                    event["offer_ttl"] = offer_ttl(changes["waitlistOffer"])

    def _apply(self, event_id: str, change: Change) -> None:
        registrations = self.registrations.setdefault(event_id, {})
        if isinstance(change, Confirm):
            registrations[change.user_id] = Registration(change.user_id, Standing.CONFIRMED)
        elif isinstance(change, JoinWaitlist):
            registrations[change.user_id] = Registration(change.user_id, Standing.WAITLISTED, change.wait_seq)
        elif isinstance(change, Release):
            del registrations[change.user_id]
        elif isinstance(change, Promote | TakeOffer):
            registrations[change.user_id] = Registration(change.user_id, Standing.CONFIRMED)
        elif isinstance(change, Offer):
            registrations[change.user_id] = Registration(
                change.user_id, Standing.OFFERED, offer_expires_at=change.expires_at
            )
        elif isinstance(change, EndOffer):
            registrations[change.user_id] = Registration(
                change.user_id, change.standing, offer_expires_at=change.expires_at
            )
        elif isinstance(change, Complete):
            self.outcomes[change.request_id] = change.outcome

    def due(self, now: str, limit: int) -> list[DueOffer]:
        """The open offers due by `now`, as the sweep's index lists them (oldest first)."""
        offers = [
            DueOffer(event_id, r.user_id, r.offer_expires_at)
            for event_id, registrations in self.registrations.items()
            for r in registrations.values()
            if r.standing is Standing.OFFERED and r.offer_expires_at and r.offer_expires_at <= now
        ]
        return sorted(offers, key=lambda o: (o.expires_at, o.event_id, o.user_id))[:limit]

    def purge(self, event_id: str, time_left: Callable[[], float] | None = None) -> tuple[int, bool]:
        self.events.pop(event_id, None)
        return len(self.registrations.pop(event_id, {})), True


class MemoryLanes:
    """Tickets counted here; the progress is what the memory seat store recorded."""

    def __init__(self, seats: MemorySeatStore) -> None:
        self._seats = seats
        self.issued: dict[str, int] = {}
        self._lock = threading.Lock()

    def take_ticket(self, event_id: str) -> int:
        with self._lock:
            self.issued[event_id] = self.issued.get(event_id, 0) + 1
            return self.issued[event_id]

    def progress(self, event_id: str) -> LaneProgress:
        event = self._seats.events.get(event_id)
        return event["lane"] if event else LaneProgress()


class MemoryPendingCommands:
    """A mark per (event, user)."""

    def __init__(self) -> None:
        self.marks: dict[tuple[str, str], Mark] = {}
        self._lock = threading.Lock()

    def claim(self, record: RequestRecord, now: int) -> Mark | None:
        with self._lock:
            held = self.marks.setdefault((record.event_id, record.user_id or ""), Mark(record, now))
            return None if held.record is record else held

    def take_over(self, record: RequestRecord, holder: str, now: int) -> bool:
        with self._lock:
            place = (record.event_id, record.user_id or "")
            if self.marks[place].record.request_id != holder:
                return False
            self.marks[place] = Mark(record, now)
            return True


class MemoryWaitHolds:
    """Holds per subject: (how many, until when)."""

    def __init__(self) -> None:
        self.holds: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def acquire(self, subject: str, now: int, most: int) -> bool:
        with self._lock:
            held, until = self.holds.get(subject, (0, 0))
            held = 0 if until < now else held
            if held >= most:
                return False
            self.holds[subject] = (held + 1, now + HOLD_SECONDS)
            return True

    def release(self, subject: str) -> None:
        with self._lock:
            held, until = self.holds.get(subject, (0, 0))
            self.holds[subject] = (max(0, held - 1), until)


class MemoryDeadLetters:
    """Keeps what was dead-lettered, with the reason."""

    def __init__(self) -> None:
        self.sent: list[tuple[dict[str, Any], str]] = []

    def send(self, record: dict[str, Any], reason: str) -> None:
        self.sent.append((record, reason))
