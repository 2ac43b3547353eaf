"""Seat decisions for one event: register, cancel, change capacity, and answer, decline or
lapse a waitlist offer. Pure and deterministic.

The worker loads an `EventSeats` snapshot, `decide`s a batch of commands in queue order, and
commits the resulting `Plan` in one conditional transaction. Invariants kept here:

1. confirmed + offered never exceeds capacity (a capacity cut below it bumps nobody);
2. a user holds at most one active registration per event;
3. the waitlist is served first come, first served (an offer goes to its head);
4. a freed seat goes to the head of the waitlist in the same plan that frees it: promoted at
   once, or (when the event has `waitlistOffer`) offered until `offer_expires_at`;
5. an offer is decided once: accepted (only if asked before it expires), declined or lapsed.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, assert_never


class Standing(StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    OFFERED = "offered"  # holds a seat until the offer expires
    DECLINED = "declined"  # an offer turned down: no seat, not waiting (kept as a record)
    OFFER_EXPIRED = "offer_expired"  # an offer left to lapse: likewise

    @property
    def is_active(self) -> bool:
        """Counts as the user's registration (an ended offer does not: they may register again)."""
        return self in (Standing.CONFIRMED, Standing.WAITLISTED, Standing.OFFERED)


# What a user's registrations show by default, in this order: an offer first (it needs an
# answer before it lapses), then seats held, then places in line.
ACTIVE_VIEW = (Standing.OFFERED, Standing.CONFIRMED, Standing.WAITLISTED)
ACTIVE = "active"  # the listing filter that means every standing of ACTIVE_VIEW


class RequestType(StrEnum):
    """What an asynchronous request asks (the `type` of its command and of its record)."""

    REGISTER = "register"
    CANCEL = "cancel"
    CHANGE_CAPACITY = "change_capacity"
    PURGE_EVENT = "purge_event"
    ACCEPT_OFFER = "accept_offer"
    DECLINE_OFFER = "decline_offer"
    EXPIRE_OFFER = "expire_offer"  # the offer sweep's


class RequestStatus(StrEnum):
    """Where an asynchronous request is: queued, decided (with an outcome), or never queued."""

    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"


class OutcomeKind(StrEnum):
    """How a request was decided (the `type` of its outcome)."""

    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    REJECTED = "rejected"
    ALREADY_REGISTERED = "already_registered"
    CANCELLED = "cancelled"
    NOT_REGISTERED = "not_registered"
    CAPACITY_CHANGED = "capacity_changed"
    DECLINED = "declined"
    OFFER_EXPIRED = "offer_expired"


class Reason(StrEnum):
    """Why a request was rejected."""

    EVENT_FULL = "event_full"
    EVENT_CLOSED = "event_closed"
    INVALID_CHANGE = "invalid_change"  # a queued change whose other fields the event cannot take
    INVALID_REQUEST = "invalid_request"  # a command whose own data made its commit fail
    PRECONDITION_FAILED = "precondition_failed"  # its If-Match names an older version
    SUPERSEDED = "superseded"  # a newer change was applied after it was accepted
    OFFER_EXPIRED = "offer_expired"
    NO_OFFER = "no_offer"


@dataclass(frozen=True)
class Register:
    request_id: str
    user_id: str
    requested_by: str | None = None  # who asked (None: an import's row)


@dataclass(frozen=True)
class Cancel:
    request_id: str
    user_id: str


@dataclass(frozen=True)
class EventEdit:
    """What an organizer's update changes on the event besides its capacity: the settings seat
    decisions read, typed, and every field as the organizer sent it (wire names), which the
    stores write on the event once the change is decided."""

    is_open: bool | None = None
    waitlist_enabled: bool | None = None
    sets_offer: bool = False  # the change sets `offer_ttl` (None: offers off)
    offer_ttl: int | None = None
    fields: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class ChangeCapacity:
    """An organizer's update that touches seats: a new capacity, and maybe status or waitlist."""

    request_id: str
    capacity: int
    edit: EventEdit = EventEdit()
    expected_version: int | None = None  # If-Match: only to this version of the event
    accepted_at: str = ""  # when the API accepted it: an older one than the last applied is stale


@dataclass(frozen=True)
class Reject:
    """A request that cannot be carried out for a reason of its own (say, a queued change the
    event cannot take): it completes as `rejected` with `reason`, and the batch goes on."""

    request_id: str
    reason: Reason


@dataclass(frozen=True)
class AcceptOffer:
    request_id: str
    user_id: str
    accepted_at: str  # when the API accepted it: on time only if before the offer expires


@dataclass(frozen=True)
class DeclineOffer:
    request_id: str
    user_id: str


@dataclass(frozen=True)
class ExpireOffer:
    """Queued by the sweep for an offer that is due: it lapses, unless it was answered first."""

    request_id: str
    user_id: str
    expires_at: str  # names the offer: a later offer to the same user is not this one


Command = Register | Cancel | ChangeCapacity | Reject | AcceptOffer | DeclineOffer | ExpireOffer


@dataclass(frozen=True)
class Registration:
    """A user's registration for one event, whole: what a store writes is this value."""

    user_id: str
    standing: Standing
    wait_seq: int | None = None  # waitlisted: its place in the waitlist's order
    offer_expires_at: str | None = None  # offered (and ended offers): when the offer lapses
    request_id: str = ""  # the request that registered them
    registered_by: str | None = None  # who asked (None: an import's row)
    registered_at: str = ""
    confirmed_at: str | None = None
    freed_by: str | None = None  # promoted into, or offered, a seat this request freed
    offered_at: str | None = None
    ended_by: str | None = None  # the request that ended their offer (a decline, the sweep)
    ended_at: str | None = None

    def confirmed(self, now: str) -> Registration:
        return replace(
            self, standing=Standing.CONFIRMED, wait_seq=None, offer_expires_at=None, confirmed_at=now
        )

    def offered(self, freed_by: str, now: str, expires_at: str) -> Registration:
        return replace(
            self,
            standing=Standing.OFFERED,
            wait_seq=None,
            offer_expires_at=expires_at,
            offered_at=now,
            freed_by=freed_by,
        )

    def ended(self, standing: Standing, ended_by: str, now: str) -> Registration:
        return replace(self, standing=standing, ended_by=ended_by, ended_at=now)


@dataclass(frozen=True)
class Outcome:
    """The terminal answer to one request, as `GET /requests/{id}` shows it."""

    kind: OutcomeKind
    position: int | None = None  # waitlisted
    reason: Reason | None = None  # rejected
    current_status: str | None = None  # already_registered
    promoted_user_ids: tuple[str, ...] = ()  # cancelled: who took the freed seat
    offered_user_ids: tuple[str, ...] = ()  # cancelled, declined, offer_expired: who was offered it
    capacity: int | None = None  # capacity_changed (promotions name it in `promotedBy`)


@dataclass
class EventSeats:
    """What the decision needs to know of one event, loaded consistently by the worker.

    `registrations` holds at least every user named by the batch. `waitlist` is the head of the
    waitlist in order (user ids); `waitlist_complete` says whether it is the whole waitlist.
    """

    event_id: str
    exists: bool
    is_open: bool
    capacity: int
    waitlist_enabled: bool
    confirmed: int
    waitlisted: int
    next_wait_seq: int
    registrations: dict[str, Registration] = field(default_factory=dict)
    waitlist: list[str] = field(default_factory=list)
    waitlist_complete: bool = True
    version: int = 1  # the event's editable version (its ETag); capacity changes move it
    changed_at: str = ""  # accepted_at of the last capacity change applied
    offered: int = 0  # seats held by open offers
    offer_ttl: int | None = None  # the event's `waitlistOffer`: None promotes at once


# --- what a plan asks the store to write ---------------------------------------------------


@dataclass(frozen=True)
class Move:
    """One registration's change, whatever it is (registered, waitlisted, promoted, offered a
    seat, the offer taken, declined or lapsed, cancelled): from `before` (None: the user had no
    registration) to `after` (None: it is removed), caused by request `cause`. A store writes
    `after` only while the registration is still `before`."""

    user_id: str
    before: Registration | None
    after: Registration | None
    cause: str

    @property
    def standings(self) -> tuple[Standing | None, Standing | None]:
        return (
            None if self.before is None else self.before.standing,
            None if self.after is None else self.after.standing,
        )


@dataclass(frozen=True)
class SetCapacity:
    capacity: int


@dataclass(frozen=True)
class Complete:
    request_id: str
    outcome: Outcome


Change = Move | SetCapacity | Complete


@dataclass
class Plan:
    """Everything one decision round changes, to commit atomically."""

    changes: list[Change] = field(default_factory=list)
    capacity: int | None = None  # set when a capacity change applied
    confirmed: int = 0
    waitlisted: int = 0
    offered: int = 0
    next_wait_seq: int = 0
    unfinished: list[Command] = field(default_factory=list)  # to decide in a next round
    version: int = 1  # the event's editable version after the plan
    changed_at: str = ""  # accepted_at of the last capacity change the plan completes
    edits: list[EventEdit] = field(default_factory=list)  # of the capacity changes it completes

    @property
    def outcomes(self) -> dict[str, Outcome]:
        return {c.request_id: c.outcome for c in self.changes if isinstance(c, Complete)}

    @property
    def continuing(self) -> str | None:
        """The request this plan may have partly applied without completing it (a capacity
        change in steps). Its commit must still require that request pending, or a redelivery
        of a completed one would apply its steps again."""
        return self.unfinished[0].request_id if self.unfinished else None


class _SecondTouch(Exception):
    """A command would write a registration this round already wrote (one write per item per
    transaction): the round ends before that command (its index in the batch, once known)."""


class WaitlistNotLoaded(Exception):
    """The decision reached past the loaded head of the waitlist: load more and decide again."""


DEFAULT_PROMOTION_BUDGET = 40


def waitlist_needed(commands: list[Command], budget: int = DEFAULT_PROMOTION_BUDGET) -> int:
    """How many head entries of the waitlist a batch can reach (cancellations may remove some).

    Zero for a batch of registrations and accepts only: they never free a seat."""
    frees = sum(isinstance(c, Cancel | DeclineOffer | ExpireOffer) for c in commands)
    raises = any(isinstance(c, ChangeCapacity) for c in commands)
    return 2 * frees + (budget if raises else 0)


def offer_expiry(now: str, ttl_seconds: int) -> str:
    """When an offer made at `now` (ISO 8601, UTC) lapses, in the same format."""
    moment = datetime.fromisoformat(now) + timedelta(seconds=ttl_seconds)  # 3.11+ reads the Z
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class _Round:
    """One pass over a batch, mutating a private copy of the snapshot."""

    def __init__(self, seats: EventSeats, promotion_budget: int, now: str) -> None:
        self.seats = seats
        self.now = now
        self.registrations = dict(seats.registrations)
        self.head = deque(seats.waitlist)
        self.tail: deque[str] = deque()  # joined in this round, behind every loaded or unloaded entry
        self.unloaded = 0 if seats.waitlist_complete else seats.waitlisted - len(seats.waitlist)
        self.plan = Plan(
            confirmed=seats.confirmed,
            waitlisted=seats.waitlisted,
            offered=seats.offered,
            next_wait_seq=seats.next_wait_seq,
            version=seats.version,
            changed_at=seats.changed_at,
        )
        self.capacity = seats.capacity
        self.is_open = seats.is_open
        self.waitlist_enabled = seats.waitlist_enabled
        self.offer_ttl = seats.offer_ttl
        self.budget = promotion_budget
        self.touched: set[str] = set()
        self.joined: dict[str, str] = {}  # user -> request: joined the waitlist in this round

    def settle_positions(self) -> None:
        """A `waitlisted` outcome names the position after this round's commit: promotions later
        in the round move it up. (Whoever joined in this round is still at the tail: touching
        them again, to promote or cancel, would end the round before that command.)"""
        final = {user: self.plan.waitlisted - len(self.tail) + i + 1 for i, user in enumerate(self.tail)}
        settled = {request: final[user] for user, request in self.joined.items()}
        self.plan.changes = [
            Complete(c.request_id, replace(c.outcome, position=settled[c.request_id]))
            if isinstance(c, Complete) and c.request_id in settled
            else c
            for c in self.plan.changes
        ]

    def _move(self, user_id: str, after: Registration | None, cause: str) -> None:
        """The user's registration becomes `after` (None: removed) in this plan."""
        if user_id in self.touched:
            raise _SecondTouch()
        self.touched.add(user_id)
        self.plan.changes.append(Move(user_id, self.registrations.get(user_id), after, cause))
        if after is None:
            del self.registrations[user_id]
        else:
            self.registrations[user_id] = after

    @property
    def _taken(self) -> int:
        return self.plan.confirmed + self.plan.offered

    # a seat freed (or added): the head of the waitlist takes it, or is offered it, in this plan
    def _fill_free_seats(self, freed_by: str) -> list[str]:
        filled: list[str] = []
        while self._taken < self.capacity and self.plan.waitlisted > 0:
            user_id = self._pop_head()
            registration = self.registrations[user_id]
            assert registration.wait_seq is not None
            if self.offer_ttl is None:
                promoted = replace(registration.confirmed(self.now), freed_by=freed_by)
                self._move(user_id, promoted, freed_by)
                self.plan.confirmed += 1
            else:
                expires = offer_expiry(self.now, self.offer_ttl)
                self._move(user_id, registration.offered(freed_by, self.now, expires), freed_by)
                self.plan.offered += 1
            self.plan.waitlisted -= 1
            filled.append(user_id)
        return filled

    def _freed(self, kind: OutcomeKind, freed_by: str) -> Outcome:
        """The outcome of a command that freed a seat, naming who was promoted into it or
        offered it."""
        offering = self.offer_ttl is not None
        filled = tuple(self._fill_free_seats(freed_by))
        if offering:
            return Outcome(kind, offered_user_ids=filled)
        return Outcome(kind, promoted_user_ids=filled)

    def _pop_head(self) -> str:
        if self.head:
            return self.head.popleft()
        if self.unloaded > 0:
            raise WaitlistNotLoaded()
        return self.tail.popleft()

    def _leave_waitlist(self, user_id: str) -> None:
        for queue in (self.head, self.tail):
            if user_id in queue:
                queue.remove(user_id)
                return
        self.unloaded -= 1  # it was in the unloaded middle

    def _active(self, user_id: str) -> Registration | None:
        current = self.registrations.get(user_id)
        return current if current is not None and current.standing.is_active else None

    def register(self, command: Register) -> Outcome:
        if not self.seats.exists:
            return Outcome(OutcomeKind.REJECTED, reason=Reason.EVENT_CLOSED)
        current = self._active(command.user_id)
        if current is not None:
            return Outcome(OutcomeKind.ALREADY_REGISTERED, current_status=current.standing.value)
        if not self.is_open:
            return Outcome(OutcomeKind.REJECTED, reason=Reason.EVENT_CLOSED)
        joined = Registration(
            command.user_id,
            Standing.WAITLISTED,
            request_id=command.request_id,
            registered_by=command.requested_by,
            registered_at=self.now,
        )
        if self._taken < self.capacity and self.plan.waitlisted == 0:
            self._move(command.user_id, joined.confirmed(self.now), command.request_id)
            self.plan.confirmed += 1
            return Outcome(OutcomeKind.CONFIRMED)
        if not self.waitlist_enabled:
            return Outcome(OutcomeKind.REJECTED, reason=Reason.EVENT_FULL)
        seq = self.plan.next_wait_seq
        self.plan.next_wait_seq += 1
        self._move(command.user_id, replace(joined, wait_seq=seq), command.request_id)
        self.tail.append(command.user_id)
        self.joined[command.user_id] = command.request_id
        self.plan.waitlisted += 1
        return Outcome(OutcomeKind.WAITLISTED)  # its position: settle_positions, at the round's end

    def cancel(self, command: Cancel) -> Outcome:
        current = self._active(command.user_id)
        if current is None or not self.seats.exists:
            return Outcome(OutcomeKind.NOT_REGISTERED)
        self._move(command.user_id, None, command.request_id)
        if current.standing is Standing.WAITLISTED:
            self._leave_waitlist(command.user_id)
            self.plan.waitlisted -= 1
            return Outcome(OutcomeKind.CANCELLED)
        if current.standing is Standing.OFFERED:
            self.plan.offered -= 1
        else:
            self.plan.confirmed -= 1
        return self._freed(OutcomeKind.CANCELLED, freed_by=command.request_id)

    def _open_offer(self, user_id: str) -> Registration | Outcome:
        """The user's open offer, or why there is none to answer: `offer_expired` when their
        last offer lapsed, `no_offer` otherwise (never offered, declined, already answered)."""
        current = self.registrations.get(user_id)
        if self.seats.exists and current is not None and current.standing is Standing.OFFERED:
            return current
        lapsed = current is not None and current.standing is Standing.OFFER_EXPIRED
        return Outcome(OutcomeKind.REJECTED, reason=Reason.OFFER_EXPIRED if lapsed else Reason.NO_OFFER)

    def accept_offer(self, command: AcceptOffer) -> Outcome:
        offer = self._open_offer(command.user_id)
        if isinstance(offer, Outcome):
            return offer
        assert offer.offer_expires_at is not None
        if command.accepted_at >= offer.offer_expires_at:
            # too late, even if the sweep has not lapsed the offer yet
            return Outcome(OutcomeKind.REJECTED, reason=Reason.OFFER_EXPIRED)
        self._move(command.user_id, offer.confirmed(self.now), command.request_id)
        self.plan.offered -= 1
        self.plan.confirmed += 1
        return Outcome(OutcomeKind.CONFIRMED)

    def decline_offer(self, command: DeclineOffer) -> Outcome:
        offer = self._open_offer(command.user_id)
        if isinstance(offer, Outcome):
            return offer
        return self._end_offer(offer, Standing.DECLINED, command.request_id)

    def expire_offer(self, command: ExpireOffer) -> Outcome:
        offer = self._open_offer(command.user_id)
        if isinstance(offer, Outcome) or offer.offer_expires_at != command.expires_at:
            return Outcome(OutcomeKind.REJECTED, reason=Reason.NO_OFFER)  # answered first, or a later offer
        return self._end_offer(offer, Standing.OFFER_EXPIRED, command.request_id)

    def _end_offer(self, offer: Registration, ending: Standing, request_id: str) -> Outcome:
        self._move(offer.user_id, offer.ended(ending, request_id, self.now), request_id)
        self.plan.offered -= 1
        return self._freed(OutcomeKind(ending.value), freed_by=request_id)

    def apply(self, command: Command) -> Outcome | None:
        match command:
            case Reject():
                return Outcome(OutcomeKind.REJECTED, reason=command.reason)
            case Register():
                return self.register(command)
            case Cancel():
                return self.cancel(command)
            case AcceptOffer():
                return self.accept_offer(command)
            case DeclineOffer():
                return self.decline_offer(command)
            case ExpireOffer():
                return self.expire_offer(command)
            case ChangeCapacity():
                return self.change_capacity(command)
            case _:
                assert_never(command)

    def change_capacity(self, command: ChangeCapacity) -> Outcome | None:
        """Apply a new capacity; a large raise over a long waitlist goes in budget-sized steps.

        Each step raises capacity only as far as it fills seats from the waitlist, so no
        committed state ever has an empty seat while someone waits. None: not finished yet.
        """
        if not self.seats.exists:
            return Outcome(OutcomeKind.REJECTED, reason=Reason.EVENT_CLOSED)
        stale = self._stale(command)
        if stale is not None:
            return Outcome(OutcomeKind.REJECTED, reason=stale)
        edit = command.edit
        if edit.is_open is not None:
            self.is_open = edit.is_open
        if edit.waitlist_enabled is not None:
            self.waitlist_enabled = edit.waitlist_enabled
        if edit.sets_offer:
            self.offer_ttl = edit.offer_ttl
        target = command.capacity
        step = target
        if target > self.capacity:
            reachable = self._taken + min(self.plan.waitlisted, self.budget)
            if self.plan.waitlisted > self.budget:
                step = min(target, max(reachable, self.capacity))
        self.capacity = step
        self.plan.capacity = step
        self.plan.changes.append(SetCapacity(step))
        filled = self._fill_free_seats(freed_by=command.request_id)
        self.budget -= len(filled)
        if step != target:
            return None  # the version moves when the change is complete, so its steps all match
        self.plan.version += 1
        self.plan.changed_at = max(self.plan.changed_at, command.accepted_at)
        self.plan.edits.append(edit)
        return Outcome(OutcomeKind.CAPACITY_CHANGED, capacity=target)

    def _stale(self, command: ChangeCapacity) -> Reason | None:
        """Why a capacity change may no longer apply: its If-Match names an older version
        (precondition_failed), or a newer change was applied since it was accepted (superseded:
        an old change redriven from the dead-letter queue must not undo a newer one)."""
        if command.expected_version is not None and command.expected_version != self.plan.version:
            return Reason.PRECONDITION_FAILED
        if command.accepted_at and command.accepted_at < self.plan.changed_at:
            return Reason.SUPERSEDED
        return None


def decide(
    seats: EventSeats,
    commands: list[Command],
    promotion_budget: int = DEFAULT_PROMOTION_BUDGET,
    *,
    now: str,
) -> Plan:
    """Decide `commands` in order against `seats` at `now` (ISO 8601: the time offers made in
    this plan count their expiry from). Each command completes or is left unfinished.

    A capacity change that needs more promotions than `promotion_budget` allows is partly
    applied and returned in `plan.unfinished` with every command after it, to decide in the
    next round on the committed state (so each committed round is small and consistent). So is
    a command that would write a registration the round already wrote (DynamoDB allows one
    operation per item in a transaction).
    """
    try:
        return _decide_round(seats, commands, promotion_budget, now)
    except _SecondTouch as collision:
        index = collision.args[0]
        assert index > 0, "a single command never writes one registration twice"
        plan = _decide_round(seats, commands[:index], promotion_budget, now)
        plan.unfinished = commands[index:]  # the round decided every command before `index`
        return plan


def _decide_round(seats: EventSeats, commands: list[Command], promotion_budget: int, now: str) -> Plan:
    round_ = _Round(seats, promotion_budget, now)
    for index, command in enumerate(commands):
        try:
            outcome = round_.apply(command)
        except _SecondTouch:
            raise _SecondTouch(index) from None
        if outcome is None:
            round_.plan.unfinished = commands[index:]
            break
        round_.plan.changes.append(Complete(command.request_id, outcome))
    round_.settle_positions()
    return round_.plan
