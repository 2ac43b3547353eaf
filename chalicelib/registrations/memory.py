"""Registrations in memory: requests, the command queue, listings and the worker's seat store,
with the same contracts as the DynamoDB and SQS adapters (tests/contracts prove it)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from chalicelib.events.domain import apply_changes
from chalicelib.events.memory import MemoryEventRepository
from chalicelib.registrations.domain import (
    ACTIVE,
    ACTIVE_VIEW,
    Change,
    Complete,
    EventSeats,
    Move,
    Outcome,
    Plan,
    Registration,
    RequestStatus,
    Standing,
)
from chalicelib.registrations.items import (
    DECISION,
    Stamp,
    completed,
    decisions_made,
    listing_entry,
    move_items,
    registration_item,
    request_item,
)
from chalicelib.registrations.lanes import LaneProgress, progressed
from chalicelib.registrations.messages import CommandMessage
from chalicelib.registrations.ports import (
    HOLD_SECONDS,
    ConcurrentChange,
    DueOffer,
    IdempotencyKeyTaken,
    QueueUnavailable,
    RequestRecord,
    Snapshot,
)
from chalicelib.shared.cursor import Position


class MemoryRequestRepository:
    """Request records, and a mark per (event, user) holding that user's pending command."""

    def __init__(self) -> None:
        self.records: dict[str, RequestRecord] = {}
        self.claims: dict[str, tuple[str, str]] = {}
        self.marks: dict[tuple[str, str], RequestRecord] = {}
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
        record = self.records.get(request_id)
        if record is None:
            held = [m for m in self.marks.values() if m.request_id == request_id]
            record = held[0] if held else None
        return record

    def claim(self, record: RequestRecord, now: int) -> RequestRecord | None:
        with self._lock:
            held = self.marks.setdefault((record.event_id, record.user_id or ""), record)
            return None if held is record else held

    def take_over(self, record: RequestRecord, holder: str, now: int) -> bool:
        with self._lock:
            place = (record.event_id, record.user_id or "")
            if self.marks[place].request_id != holder:
                return False
            self.marks[place] = record
            return True

    def find_idempotent(self, key: str) -> tuple[str, str] | None:
        return self.claims.get(key)

    def existing(self, request_ids: list[str]) -> set[str]:
        return {r for r in request_ids if r in self.records}

    def mark_failed(self, record: RequestRecord, reason: str, now: str) -> bool:
        with self._lock:
            stored = self.records.get(record.request_id)
            if stored is not None and stored.status != RequestStatus.PENDING:
                return False
            self.records[record.request_id] = replace(
                record, status=RequestStatus.FAILED, failure=reason, completed_at=now
            )
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
    """The listings in the indexes' orders: over the seat store's registrations (one in-memory
    world, `bootstrap.in_memory`), and over rows a test adds directly to `rows`."""

    def __init__(self, seats: MemorySeatStore | None = None) -> None:
        self.rows: list[dict[str, Any]] = []
        self._seats = seats

    def for_event(
        self, event_id: str, status: str, limit: int, after: Position | None
    ) -> tuple[list[dict[str, Any]], Position | None]:
        stored = self._registrations(event_id)
        chosen = sorted((r for r in stored if r.standing.value == status), key=_listing_order)
        entries = [self._entry(event_id, r) for r in chosen]
        entries += [r for r in self.rows if r["eventId"] == event_id and r["status"] == status]
        return self._page(entries, limit, after)

    def for_user(
        self, user_id: str, status: str, limit: int, after: Position | None
    ) -> tuple[list[dict[str, Any]], Position | None]:
        shown = [s.value for s in ACTIVE_VIEW] if status == ACTIVE else [status]
        stored = self._seats.registrations if self._seats is not None else {}
        mine = [
            self._entry(event_id, registrations[user_id])
            for event_id, registrations in sorted(stored.items())
            if user_id in registrations and registrations[user_id].standing.value in shown
        ]
        mine += [r for r in self.rows if r["userId"] == user_id and r["status"] in shown]
        return self._page(sorted(mine, key=lambda r: shown.index(r["status"])), limit, after)

    def _registrations(self, event_id: str) -> list[Registration]:
        if self._seats is None:
            return []
        return list(self._seats.registrations.get(event_id, {}).values())

    def _entry(self, event_id: str, registration: Registration) -> dict[str, Any]:
        entry = listing_entry(registration_item(event_id, registration))
        if registration.standing is Standing.WAITLISTED:
            ahead = [
                r
                for r in self._registrations(event_id)
                if r.standing is Standing.WAITLISTED and (r.wait_seq or 0) < (registration.wait_seq or 0)
            ]
            entry["position"] = len(ahead) + 1
        return entry

    @staticmethod
    def _page(
        rows: list[dict[str, Any]], limit: int, after: Position | None
    ) -> tuple[list[dict[str, Any]], Position | None]:
        start = int(after.get("offset", 0)) if after else 0
        page = rows[start : start + limit]
        more = start + limit < len(rows)
        return page, ({"offset": start + limit} if more else None)


def _listing_order(registration: Registration) -> tuple[Any, ...]:
    """An event's listing order, as DynamoDB keeps it: confirmed ones by user id (the event's
    partition), offers by expiry (GSI2), the waitlist by its sequence (LSI1)."""
    if registration.standing is Standing.WAITLISTED:
        return (registration.wait_seq or 0, registration.user_id)
    if registration.standing is Standing.OFFERED:
        return (registration.offer_expires_at or "", registration.user_id)
    return ("", registration.user_id)


class MemorySeatStore:
    """The registration worker's store in memory, with the same version check as DynamoDB's.

    Alone (`MemorySeatStore()`, events added with `add_event`) it serves fast tests of the
    decision service and the property tests' many examples. Wired by `bootstrap.in_memory` it
    shares one world with the other in-memory adapters, as the DynamoDB store shares the table:
    it decides on the events of the event repository and writes their counters and decided edits
    back, completes the request repository's records, and the registration listings read its
    registrations. Every committed change is kept in `changes` as the (old, new) item images the
    table's stream would carry, for the webhook relay.
    """

    def __init__(
        self, events: MemoryEventRepository | None = None, requests: MemoryRequestRepository | None = None
    ) -> None:
        self.events: dict[str, dict[str, Any]] = {}  # event id -> capacity, open, waitlist, counters
        self.registrations: dict[str, dict[str, Registration]] = {}
        self.outcomes: dict[str, Outcome] = {}
        self.kept: dict[tuple[str, str], dict[str, Any]] = {}  # (event, user) -> `items.DECISION`
        self.changes: list[tuple[dict[str, Any] | None, dict[str, Any] | None]] = []
        self.commits = 0
        self._event_repository = events
        self._requests = requests

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

    def _event(self, event_id: str) -> dict[str, Any] | None:
        """The event's seats; wired to an event repository, as that event is now (None: there is
        no such event, or it is being deleted)."""
        if self._event_repository is None:
            return self.events.get(event_id)
        event = self._event_repository.get(event_id)
        if event is None:
            return None
        if event_id not in self.events:
            self.add_event(event_id, event.capacity, event.waitlist_enabled)
        seats = self.events[event_id]
        seats.update(
            capacity=event.capacity,
            is_open=event.is_open,
            waitlist_enabled=event.waitlist_enabled,
            offer_ttl=event.waitlist_offer_ttl,
            edit_version=event.version,
            confirmed=event.confirmed_count,
            waitlisted=event.waitlist_count,
            offered=event.offered_count,
        )
        return seats

    def load(self, event_id: str, user_ids: set[str], request_ids: set[str], waitlist_size: int) -> Snapshot:
        statuses = {r: (RequestStatus.COMPLETED if r in self.outcomes else None) for r in request_ids}
        event = self._event(event_id)
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
        kept = {u: self.kept[(event_id, u)] for u in known if (event_id, u) in self.kept}
        statuses.update({known[u].request_id: RequestStatus.COMPLETED for u in kept})  # as DynamoDB's
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
        return Snapshot(seats, event["version"], statuses, lane=event["lane"], kept=kept)

    def edit(self, event_id: str, **changes: Any) -> None:
        """What an organizer's edit through the API does to the event (`is_open`, `offer_ttl`):
        applied at once, and it moves the event's (editable) version."""
        event = self.events[event_id]
        event.update(**changes, edit_version=event["edit_version"] + 1)

    def commit(self, snapshot: Snapshot, plan: Plan, requests: dict[str, RequestRecord], now: str) -> None:
        event_id = snapshot.seats.event_id
        event = self._event(event_id)
        if (event["version"] if event else 0) != snapshot.seat_version:
            raise ConcurrentChange(event_id)
        if event is not None and event["edit_version"] != snapshot.seats.version:
            raise ConcurrentChange(event_id)  # edited between load and commit
        if any(r in self.outcomes for r in [*plan.outcomes, plan.continuing]):
            raise ConcurrentChange(event_id)
        self.commits += 1
        stamp = Stamp.after(plan, self._owner(event_id))
        made = decisions_made(plan, requests, now)
        for change in plan.changes:
            self._apply(event_id, change, stamp, requests, now, made)
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
            decided = [requests[r] for r in plan.outcomes if r in requests]
            event["lane"] = progressed(event["lane"], [r.created_at for r in decided], now)
            if plan.capacity is not None:
                event["capacity"] = plan.capacity
            for edit in plan.edits:
                if edit.is_open is not None:
                    event["is_open"] = edit.is_open
                if edit.waitlist_enabled is not None:
                    event["waitlist_enabled"] = edit.waitlist_enabled
                if edit.sets_offer:
                    event["offer_ttl"] = edit.offer_ttl
            self._write_event(event_id, plan, now)

    def _owner(self, event_id: str) -> str:
        event = self._event_repository.get(event_id) if self._event_repository else None
        return event.owner_id if event is not None else ""

    def _write_event(self, event_id: str, plan: Plan, now: str) -> None:
        """Wired to an event repository: the event as this plan leaves it."""
        if self._event_repository is None:
            return
        event = self._event_repository.get(event_id)
        if event is None:
            return
        for edit in plan.edits:
            event = apply_changes(event, dict(edit.fields), now)
        capacity = event.capacity if plan.capacity is None else plan.capacity
        self._event_repository.write(
            replace(
                event,
                capacity=capacity,
                confirmed_count=plan.confirmed,
                waitlist_count=plan.waitlisted,
                offered_count=plan.offered,
                version=plan.version,
            )
        )

    def _apply(
        self,
        event_id: str,
        change: Change,
        stamp: Stamp,
        requests: dict[str, RequestRecord],
        now: str,
        made: dict[str, dict[str, Any]],
    ) -> None:
        """One change, and the item images the table's stream would show for it."""
        registrations = self.registrations.setdefault(event_id, {})
        if isinstance(change, Move):
            assert registrations.get(change.user_id) == change.before, "the plan read it otherwise"
            self._move(event_id, change, stamp, made)
        elif isinstance(change, Complete):
            self.outcomes[change.request_id] = change.outcome
            request = requests.get(change.request_id)
            if request is not None:
                self._complete(request, change.outcome, stamp, now, told=change.request_id not in made)

    def _move(self, event_id: str, move: Move, stamp: Stamp, made: dict[str, dict[str, Any]]) -> None:
        registrations, where = self.registrations[event_id], (event_id, move.user_id)
        kept = self.kept.pop(where, None)
        old = None if move.before is None else registration_item(event_id, move.before, decision=kept)
        making = made.get(move.after.request_id) if move.after is not None else None
        items = move_items(event_id, move, stamp, kept, making)
        if move.after is None:
            del registrations[move.user_id]
        else:
            registrations[move.user_id] = move.after
        if items.registration is not None and items.registration.get(DECISION):
            self.kept[where] = items.registration[DECISION]
        self.changes.append((old, items.registration))
        if items.moved_decision is not None:
            self.changes.append((None, items.moved_decision))

    def _complete(self, request: RequestRecord, outcome: Outcome, stamp: Stamp, now: str, told: bool) -> None:
        """The request's record completed, as the DynamoDB store's conditional put does (`told`:
        as its own item; else its registration's item keeps the decision)."""
        pending = request_item(request)
        done = completed(pending, outcome, now, stamp)
        if told:
            self.changes.append((pending, done))
        if self._requests is not None:
            recorded = self._requests.get(request.request_id) or request
            self._requests.records[request.request_id] = replace(
                recorded, status=RequestStatus.COMPLETED, outcome=done["outcome"], completed_at=now
            )

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
        self.kept = {where: kept for where, kept in self.kept.items() if where[0] != event_id}
        return len(self.registrations.pop(event_id, {})), True


class MemoryLanes:
    """The progress the memory seat store recorded."""

    def __init__(self, seats: MemorySeatStore) -> None:
        self._seats = seats

    def progress(self, event_id: str) -> LaneProgress:
        event = self._seats.events.get(event_id)
        return event["lane"] if event else LaneProgress()


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
