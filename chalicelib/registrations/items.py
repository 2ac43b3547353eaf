"""How registrations and request records are stored: the code that names their items'
attributes and index keys, and the stored outcome. Pure (plain values in and out; the adapters
convert them to DynamoDB's types), so the webhook relay reads registration changes through it
too (`move_from_images`).

registration     EVENT#{eventId} / REG#{userId}   GSI2 an event's open offers by expiry (offered
                                                  ones; the confirmed list is read from the
                                                  event's partition, in no index),
                                                  GSI3 every open offer by expiry (the sweep);
                                                  a waitlisted one keeps its place
                                                  (`waitlistSeq`) and its joiners item
                                                  (`joinersItem`). One waitlisted before the
                                                  joiners items has `waitSeq` instead, which
                                                  keys LSI1 (an LSI cannot be dropped) until
                                                  its next move: those are ahead of every
                                                  joiners item's (`stored_waitlist.py`)

                 a person's register that confirmed or waitlisted them keeps its
                                                  decision here (`decision`), not in an item of
                                                  its own, until a later move of theirs replaces
                                                  the registration (`move_items`)

request          REQUEST#{requestId} / META       TTL expiresAt
mark             USER#{userId} / REG#{eventId}    a user's pending register or cancel for an
                                                  event, kept as their mark (one at a time);
                                                  its id names the event and the user (ids of an
                                                  earlier shape, a hash of the two, lead to
                                                  PENDING#{hash} / META). It stays: a user's
                                                  marks are their list of events (a registration
                                                  made without one, an import's row, makes a
                                                  bare one: `MoveItems.ensures_mark`)
joiners          EVENT#{eventId} / WAIT#{firstSeq} in no index: the waitlist's order, one item
                                                  per decided batch that waitlisted anyone: its
                                                  joiners still waiting, by place (a commit
                                                  takes out whoever leaves the waitlist, and
                                                  deletes an emptied item: `waitlist_writes`)
seats            EVENT#{eventId} / SEATS          in no index: the counts, the waitlist's next
                                                  sequence number, the seat version and the
                                                  lane's progress (laneThrough, laneArrivals,
                                                  laneRate, laneAt; `lanes.py`), written with
                                                  each commit

A store writes a `Move` generically: `after` whole (or a delete), on the condition that the item
is still `before` (`still`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol, TypeGuard

import chalicelib.shared.table as table
from chalicelib.events.items import SEAT_VERSION, counted_on
from chalicelib.registrations.domain import (
    Complete,
    Move,
    Outcome,
    OutcomeKind,
    Plan,
    Registration,
    RequestStatus,
    RequestType,
    Standing,
)
from chalicelib.registrations.lanes import LaneProgress

# The stored vocabulary, for code that reads items and may import nothing else of this feature
# (the webhook relay): standings, request types and statuses, outcome kinds.
__all__ = [
    "CompletedRequest",
    "MovedRegistration",
    "OutcomeKind",
    "RequestStatus",
    "RequestType",
    "Stamp",
    "Standing",
    "move_from_images",
    "registration_item",
]

ENTITY = "registration"
REQUEST_TTL_SECONDS = 30 * 24 * 3600
COUNTS = ("confirmedCount", "waitlistCount", "offeredCount")


@dataclass(frozen=True)
class Stamp:
    """What every moved registration item carries for the webhook relay: the event's counts after
    the plan that moved it, and the event's owner (who routes the notification)."""

    counts: dict[str, int]
    event_owner: str

    @classmethod
    def after(cls, plan: Plan, event_owner: str) -> Stamp:
        counts = (plan.confirmed, plan.waitlisted, plan.offered)
        return cls(dict(zip(COUNTS, counts, strict=True)), event_owner)


@dataclass(frozen=True)
class MovedRegistration:
    """A registration's move as the table's stream shows it."""

    event_id: str
    move: Move
    stamp: Stamp


def registration_item(
    event_id: str,
    registration: Registration,
    stamp: Stamp | None = None,
    moved_by: str | None = None,
    decision: dict[str, Any] | None = None,
    joined_in: int | None = None,
) -> dict[str, Any]:
    """The whole item of `registration`: its attributes, and the index keys its standing puts it
    under (None-valued attributes are left out by the adapters). `moved_by`: the request whose
    move wrote it; `decision`: the decision it keeps of the request that registered them;
    `joined_in`: the joiners item a waitlisted one is in (its first place)."""
    user, status = registration.user_id, registration.standing.value
    item: dict[str, Any] = {
        "PK": table.event_pk(event_id),
        "SK": f"{table.REGISTRATION_PREFIX}{user}",
        "entity": ENTITY,
        "eventId": event_id,
        "userId": user,
        "status": status,
        "requestId": registration.request_id,
        "registeredAt": registration.registered_at,
        "registeredBy": registration.registered_by,
        "confirmedAt": registration.confirmed_at,
        WAITLIST_SEQ: registration.wait_seq,  # not LSI1's key: the joiners item holds the order
        JOINERS_ITEM: joined_in if registration.wait_seq is not None else None,
        "offerExpiresAt": registration.offer_expires_at,
        "offeredAt": registration.offered_at,
        "offeredBy": registration.freed_by if registration.offered_at else None,
        "offerEndedAt": registration.ended_at,
        "offerEndedBy": registration.ended_by,
        "movedBy": moved_by,
        DECISION: decision,
    }
    if registration.standing is Standing.CONFIRMED:
        item.update(promotedBy=registration.freed_by)
    elif registration.standing is Standing.OFFERED:
        expires = registration.offer_expires_at or ""
        item.update(
            GSI2PK=table.event_offered(event_id),
            GSI2SK=f"{expires}#{user}",
            GSI3PK=table.OPEN_OFFERS,
            GSI3SK=table.open_offer_sk(expires, event_id, user),
        )
    if stamp is not None:
        item.update(countsAfter=stamp.counts, eventOwnerId=stamp.event_owner)
    return item


WAITLIST_SEQ = "waitlistSeq"  # a waitlisted registration's place in the order
JOINERS_ITEM = "joinersItem"  # the first place of the joiners item that holds it
LSI1_SEQ = "waitSeq"  # the place of one waitlisted before the joiners items: LSI1's sort key


def registration_from_item(item: dict[str, Any]) -> Registration:
    wait_seq = item.get(WAITLIST_SEQ, item.get(LSI1_SEQ))
    standing = Standing(item["status"])
    return Registration(
        user_id=item["userId"],
        standing=standing,
        wait_seq=None if wait_seq is None else int(wait_seq),
        offer_expires_at=item.get("offerExpiresAt"),
        request_id=item.get("requestId") or "",
        registered_by=item.get("registeredBy"),
        registered_at=item.get("registeredAt") or "",
        confirmed_at=item.get("confirmedAt"),
        freed_by=item.get("promotedBy") if standing is Standing.CONFIRMED else item.get("offeredBy"),
        offered_at=item.get("offeredAt"),
        ended_by=item.get("offerEndedBy"),
        ended_at=item.get("offerEndedAt"),
    )


def open_offer(item: dict[str, Any]) -> tuple[str, str, str]:
    """(event id, user id, when the offer expires) of an offered registration's item."""
    return item["eventId"], item["userId"], item["offerExpiresAt"]


def listing_entry(item: dict[str, Any]) -> dict[str, Any]:
    """A registration item as the listings show it (and `registeredBy`, which the service reads
    and never shows)."""
    entry = {
        "eventId": item["eventId"],
        "userId": item["userId"],
        "status": item["status"],
        "registeredAt": item.get("registeredAt"),
        "registeredBy": item.get("registeredBy"),
    }
    for name in ("confirmedAt", "promotedBy", "offerExpiresAt"):  # offerExpiresAt: offered, or ended
        if item.get(name):
            entry[name] = item[name]
    return entry


def still(before: Registration | None) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The condition that the stored item is still `before` (None: there is no item), as
    (expression, attribute names, plain values). What identifies a registration's state is its
    standing, its place in the waitlist and the offer it holds."""
    if before is None:
        return "attribute_not_exists(PK)", {}, {}
    parts, names = ["#status = :was"], {"#status": "status"}
    values: dict[str, Any] = {":was": before.standing.value}
    if before.wait_seq is not None:  # in a joiners item, or (waitlisted before those) in LSI1
        parts.append("(#seq = :wasSeq OR #lsi1Seq = :wasSeq)")
        names.update({"#seq": WAITLIST_SEQ, "#lsi1Seq": LSI1_SEQ})
        values[":wasSeq"] = before.wait_seq
    if before.offer_expires_at is not None:
        parts.append("#offerExpiresAt = :wasExpires")
        names["#offerExpiresAt"] = "offerExpiresAt"
        values[":wasExpires"] = before.offer_expires_at
    return " AND ".join(parts), names, values


def standing_is(standing: Standing) -> tuple[str, dict[str, str], dict[str, Any]]:
    """A filter on registration items: their standing is `standing` (expression, names, values)."""
    return "#status = :standing", {"#status": "status"}, {":standing": standing.value}


def is_registration(image: dict[str, Any] | None) -> TypeGuard[dict[str, Any]]:
    return image is not None and image.get("entity") == ENTITY


def move_from_images(old: dict[str, Any] | None, new: dict[str, Any] | None) -> MovedRegistration | None:
    """The move a stream record of a registration item shows (None: not a registration's)."""
    before = registration_from_item(old) if is_registration(old) else None
    after = registration_from_item(new) if is_registration(new) else None
    image = new if is_registration(new) else old
    if not is_registration(image):
        return None
    cause = (new or {}).get("movedBy") or ""  # a removal leaves no image to say whose it was
    return MovedRegistration(image["eventId"], Move(image["userId"], before, after, cause), _stamp(image))


def _stamp(image: dict[str, Any]) -> Stamp:
    counts = image.get("countsAfter") or {}
    return Stamp({n: int(counts[n]) for n in COUNTS if n in counts}, image.get("eventOwnerId") or "")


@dataclass(frozen=True)
class CompletedRequest:
    """A request's completion as the table's stream shows it."""

    request_id: str
    type: RequestType
    event_id: str
    user_id: str | None
    outcome: dict[str, Any]  # as stored (`stored_outcome`)
    import_id: str | None
    completed_at: str
    stamp: Stamp


def completed_request(old: dict[str, Any] | None, new: dict[str, Any]) -> CompletedRequest | None:
    """The request, when this change of its item completes it (None for any other change): a
    request item's, or a registration item's that keeps the decision of the request that made it.
    A request item that a decision was moved to from its registration was told then."""
    if is_registration(new):
        return _decided_on_registration(old, new)
    if new.get("entity") != "request" or new.get("status") != RequestStatus.COMPLETED:
        return None
    if new.get(MOVED_FROM_REGISTRATION):
        return None
    if old is not None and old.get("status") != RequestStatus.PENDING:
        return None  # completed before this change
    return CompletedRequest(
        request_id=new["requestId"],
        type=RequestType(new["type"]),
        event_id=new["eventId"],
        user_id=new.get("userId"),
        outcome=new.get("outcome") or {},
        import_id=new.get("importId"),
        completed_at=new.get("completedAt") or new.get("createdAt", ""),
        stamp=_stamp(new),
    )


def _decided_on_registration(old: dict[str, Any] | None, new: dict[str, Any]) -> CompletedRequest | None:
    """The request a registration item's change decides: it keeps a decision now, and kept none
    of the same request before (a promotion carries the decision on, unchanged)."""
    decision = new.get(DECISION)
    if not decision:
        return None
    if is_registration(old) and old.get(DECISION) and old.get("requestId") == new["requestId"]:
        return None
    return CompletedRequest(
        request_id=new["requestId"],
        type=RequestType.REGISTER,
        event_id=new["eventId"],
        user_id=new["userId"],
        outcome=decision["outcome"],
        import_id=None,
        completed_at=decision["completedAt"],
        stamp=_stamp(new),
    )


class Request(Protocol):
    """A request as recorded (`ports.RequestRecord` is one)."""

    @property
    def request_id(self) -> str: ...

    @property
    def type(self) -> str: ...

    @property
    def event_id(self) -> str: ...

    @property
    def user_id(self) -> str | None: ...

    @property
    def status(self) -> str: ...

    @property
    def created_at(self) -> str: ...

    @property
    def requested_by(self) -> str | None: ...

    @property
    def import_id(self) -> str | None: ...

    @property
    def row(self) -> int | None: ...


def request_item(record: Request) -> dict[str, Any]:
    """The record of one asynchronous request (what `GET /requests/{id}` reads); it expires
    REQUEST_TTL_SECONDS after it was created."""
    created = datetime.fromisoformat(record.created_at.replace("Z", "+00:00"))
    return {
        "PK": table.request_pk(record.request_id),
        "SK": table.META,
        "entity": "request",
        "requestId": record.request_id,
        "type": record.type,
        "eventId": record.event_id,
        "userId": record.user_id,
        "importId": record.import_id,
        "row": record.row,
        "requestedBy": record.requested_by,
        "status": record.status,
        "createdAt": record.created_at,
        "expiresAt": int(created.timestamp()) + REQUEST_TTL_SECONDS,
    }


def request_fields(item: dict[str, Any]) -> dict[str, Any]:
    """A request item's values (or a pending mark's), by the request record's field names."""
    return {
        "request_id": item["requestId"],
        "type": RequestType(item["type"]),
        "event_id": item["eventId"],
        "user_id": item.get("userId"),
        "status": RequestStatus(item["status"]),
        "created_at": item["createdAt"],
        "outcome": item.get("outcome"),
        "completed_at": item.get("completedAt"),
        "failure": item.get("failure"),
        "requested_by": item.get("requestedBy"),
        "import_id": item.get("importId"),
        "row": None if item.get("row") is None else int(item["row"]),
    }


def failed(record: Request, reason: str, now: str) -> dict[str, Any]:
    """A request item for a request that could not be queued."""
    return {**request_item(record), "status": RequestStatus.FAILED, "failure": reason, "completedAt": now}


def mark_item(record: Request) -> dict[str, Any]:
    """A user's pending command for an event: the request's record, kept under their mark. It
    does not expire: the person's marks are their list of events (`DynamoRegistrationQueries`)."""
    key = mark_key(record.event_id, record.user_id or "")
    item = {**request_item(record), "PK": key["PK"]["S"], "SK": key["SK"]["S"], "entity": MARK_ENTITY}
    del item["expiresAt"]
    return item


def mark_ensured(event_id: str, user_id: str) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """(key, update expression, plain values) that make the person's mark for the event a bare
    one where there is none, and leave one that holds a request as it is."""
    expression = "SET entity = if_not_exists(entity, :entity), eventId = :event, userId = :user"
    values = {":entity": MARK_ENTITY, ":event": event_id, ":user": user_id}
    return mark_key(event_id, user_id), expression, values


def mark_key(event_id: str, user_id: str) -> dict[str, Any]:
    """The person's mark for the event, in their partition."""
    return table.mark_key(user_id, event_id)


def mark_holds(item: dict[str, Any], request_id: str) -> bool:
    """Whether a pending mark holds this request."""
    return bool(item.get("requestId") == request_id)


# Conditions on a request's own item or a mark, with ExpressionAttributeNames {"#status": "status"}
PENDING_REQUEST = "attribute_not_exists(PK) OR #status = :pending"  # absent, or still pending
PENDING_VALUES = {":pending": {"S": RequestStatus.PENDING.value}}
MARK_HOLDER = "requestId = :holder"  # the mark still holds request :holder
MARK_FREE = "attribute_not_exists(requestId)"  # no mark, or a bare one (an import's row's)
MARK_ENTITY = "mark"


def idempotency_item(key_value: str, request_id: str, fingerprint: str, expires_at: int) -> dict[str, Any]:
    """An Idempotency-Key, claimed for the request it was first used for."""
    return {
        "PK": table.idempotency_key(key_value)["PK"]["S"],
        "SK": table.META,
        "entity": "idempotency",
        "requestId": request_id,
        "fingerprint": fingerprint,
        "expiresAt": expires_at,
    }


def claimed(item: dict[str, Any]) -> tuple[str, str]:
    """(request id, fingerprint) an idempotency item names."""
    return item["requestId"], item["fingerprint"]


def stored_outcome(outcome: Outcome) -> dict[str, Any]:
    """An outcome as the request item stores it (and `GET /requests/{id}` shows it as stored)."""
    body: dict[str, Any] = {"type": str(outcome.kind)}
    if outcome.position is not None:
        body["position"] = outcome.position
    if outcome.reason is not None:
        body["reason"] = str(outcome.reason)
    if outcome.current_status is not None:
        body["currentStatus"] = outcome.current_status
    if outcome.promoted_user_ids:  # the first: a cancellation frees one seat
        body["promotedUserId"] = outcome.promoted_user_ids[0]
    if outcome.offered_user_ids:
        body["offeredUserId"] = outcome.offered_user_ids[0]
    if outcome.kind == OutcomeKind.CAPACITY_CHANGED:
        body["capacity"] = outcome.capacity
    return body


def completed(request: dict[str, Any], outcome: Outcome, now: str, stamp: Stamp) -> dict[str, Any]:
    """A request item once decided: its outcome, and (for the webhook relay) the event's counts
    after the plan and its owner."""
    return {
        **request,
        "status": RequestStatus.COMPLETED,
        "outcome": stored_outcome(outcome),
        "completedAt": now,
        "countsAfter": stamp.counts,
        "eventOwnerId": stamp.event_owner,
    }


# --- a decision kept on the registration it made ---------------------------------------------
#
# A person's register that confirms or waitlists them makes a registration item anyway: its
# decision is kept there (`decision`: the outcome, when the request was accepted and decided,
# and who asked), and the request gets no item of its own, which saves every such registration
# a request write. `GET /requests/{id}` finds it through the person's mark (the request id starts
# with it, and the mark names the event and the user). A later move that replaces the
# registration (a cancellation, a registration anew) or a purge moves the decision to a request
# item of its own in the same write (`move_items`); a move that keeps the registration's request
# (a promotion, an offer) carries it on.

DECISION = "decision"
MOVED_FROM_REGISTRATION = "movedFromRegistration"  # a request item written when its decision moved


def keeps_decision(request: Request, outcome: Outcome) -> bool:
    """Whether this decision is kept on the registration it makes: a person's register (kept as
    their mark while pending; not an import's row, whose record the import reads) that confirmed
    or waitlisted them."""
    registered = outcome.kind in (OutcomeKind.CONFIRMED, OutcomeKind.WAITLISTED)
    return registered and request.type == RequestType.REGISTER and mark_of(request.request_id) is not None


def decision(request: Request, outcome: Outcome, now: str) -> dict[str, Any]:
    """What a registration item keeps of the decision of the request that made it."""
    return {
        "outcome": stored_outcome(outcome),
        "createdAt": request.created_at,
        "completedAt": now,
        "requestedBy": request.requested_by,
    }


def decisions_made(plan: Plan, requests: Mapping[str, Request], now: str) -> dict[str, dict[str, Any]]:
    """The decisions this plan keeps on the registrations their requests make, by request id
    (those requests get no item of their own)."""
    made = {c.after.request_id for c in plan.changes if isinstance(c, Move) and c.after is not None}
    completes = [
        c
        for c in plan.changes
        if isinstance(c, Complete) and c.request_id in made and c.request_id in requests
    ]
    return {
        c.request_id: decision(requests[c.request_id], c.outcome, now)
        for c in completes
        if keeps_decision(requests[c.request_id], c.outcome)
    }


def kept_decision(item: dict[str, Any]) -> dict[str, Any] | None:
    """The decision a registration item keeps (None: it keeps none)."""
    kept = item.get(DECISION)
    return dict(kept) if kept else None


@dataclass(frozen=True)
class _DecidedRegister:
    """A register whose decision a registration kept, as a `Request` (for `request_item`)."""

    request_id: str
    event_id: str
    user_id: str
    created_at: str
    requested_by: str | None
    type: str = RequestType.REGISTER.value
    status: str = RequestStatus.COMPLETED.value
    import_id: str | None = None
    row: int | None = None


def decided_request_item(
    event_id: str, user_id: str, request_id: str, kept: dict[str, Any]
) -> dict[str, Any]:
    """The request item of a decision kept on a registration: what `GET /requests/{id}` shows,
    and what is written when the decision moves off the registration."""
    register = _DecidedRegister(request_id, event_id, user_id, kept["createdAt"], kept.get("requestedBy"))
    return {
        **request_item(register),
        "completedAt": kept["completedAt"],
        "outcome": kept["outcome"],
        MOVED_FROM_REGISTRATION: True,
    }


def registration_decision(item: dict[str, Any], request_id: str) -> dict[str, Any] | None:
    """The request item of `request_id`'s decision, if this registration item keeps it."""
    kept = kept_decision(item)
    if kept is None or item.get("requestId") != request_id:
        return None
    return decided_request_item(item["eventId"], item["userId"], request_id, kept)


@dataclass(frozen=True)
class MoveItems:
    """What a move writes: the registration item after it (None: deleted), the request item a
    decision the registration kept moves to (None: it stays, or there was none), and the
    person's mark for the event when the registration is new and its request was not kept as
    that mark (an import's row), so the person's list of events (their marks) holds it."""

    registration: dict[str, Any] | None
    moved_decision: dict[str, Any] | None
    ensures_mark: bool = False


def move_items(
    event_id: str,
    move: Move,
    stamp: Stamp,
    kept: dict[str, Any] | None,
    made: dict[str, Any] | None,
    joined_in: int | None = None,
) -> MoveItems:
    """The items of `move`. `kept`: the decision the registration item keeps now; `made`: the
    decision this plan keeps on it (its request registered them now); `joined_in`: the plan's
    joiners item, which a move onto the waitlist puts them in. A move that keeps the
    registration's request carries `kept` on; any other takes it off to a request item."""
    before, after = move.before, move.after
    carried = before is not None and after is not None and after.request_id == before.request_id
    keeps = made if made is not None else (kept if carried else None)
    item = None
    if after is not None:
        item = registration_item(event_id, after, stamp, move.cause, keeps, joined_in)
    moved = None
    if kept is not None and before is not None and not carried:
        moved = decided_request_item(event_id, move.user_id, before.request_id, kept)
    marked = (
        after is None or before is not None or mark_of(after.request_id) == mark_key(event_id, move.user_id)
    )
    return MoveItems(item, moved, ensures_mark=not marked)


# --- the waitlist's order: joiners items ------------------------------------------------------
#
# A decided batch that waitlists anyone writes one joiners item (`WAIT#{firstSeq}`: its joiners
# by place) in its transaction, instead of an LSI1 entry per joiner: 2 write units a batch, where
# each joiner's index entry cost 1 or 2. Whoever leaves the waitlist (promoted, offered a seat,
# cancelled) is taken out of their item in the commit that moves them, and an emptied item is
# deleted, so the items hold exactly the waitlist: the worker reads its head from the first one,
# and a waiting person's position counts the places in the items ahead. The seats item's version
# serializes every commit of the event, so the items are rewritten whole, as loaded, without a
# condition of their own.

JOINERS_ENTITY = "joiners"
Joiners = dict[int, str]  # a joiners item's content: place -> user id


def joiners_item(event_id: str, first_seq: int, joiners: Mapping[int, str]) -> dict[str, Any]:
    key = table.joiners_key(event_id, first_seq)
    return {
        "PK": key["PK"]["S"],
        "SK": key["SK"]["S"],
        "entity": JOINERS_ENTITY,
        "eventId": event_id,
        "joiners": {str(seq): user for seq, user in joiners.items()},
    }


def joiners_from_item(item: dict[str, Any]) -> tuple[int, Joiners]:
    """(first place, place -> user id) of a joiners item."""
    first = int(item["SK"].removeprefix(table.JOINERS_PREFIX))
    return first, {int(seq): user for seq, user in (item.get("joiners") or {}).items()}


def joined_in(item: dict[str, Any]) -> int | None:
    """The joiners item a registration item is in (None: not waitlisted, or in LSI1)."""
    first = item.get(JOINERS_ITEM)
    return None if first is None or item.get(WAITLIST_SEQ) is None else int(first)


def plans_joiners(plan: Plan) -> Joiners:
    """Who this plan puts on the waitlist, by place (consecutive: places are taken in turn)."""
    return {
        c.after.wait_seq: c.user_id
        for c in plan.changes
        if isinstance(c, Move) and c.after is not None and c.after.wait_seq is not None
    }


@dataclass(frozen=True)
class WaitlistWrites:
    """What a commit writes of the waitlist's order: joiners items whole, and emptied ones."""

    puts: list[dict[str, Any]]
    deletes: list[dict[str, Any]]  # keys


def waitlist_writes(
    event_id: str, plan: Plan, loaded: Mapping[int, Joiners], joined: Mapping[str, int]
) -> WaitlistWrites:
    """The plan's joiners as a new item, and every loaded item someone leaves, without them.
    `loaded`: the joiners items read (first place -> content), which hold everyone the plan
    moves off the waitlist; `joined`: user id -> the item they are in (none: in LSI1)."""
    leaving: dict[int, set[int]] = {}
    for change in plan.changes:
        if isinstance(change, Move) and change.before is not None and change.before.wait_seq is not None:
            first = joined.get(change.user_id)
            if first is not None:
                leaving.setdefault(first, set()).add(change.before.wait_seq)
    puts, deletes = [], []
    for first, seqs in sorted(leaving.items()):
        if first not in loaded:  # the store's load reads every item its plan can reach
            raise RuntimeError(f"joiners item {first} of event {event_id} was not loaded")
        staying = {seq: user for seq, user in loaded[first].items() if seq not in seqs}
        if staying:
            puts.append(joiners_item(event_id, first, staying))
        else:
            deletes.append(table.joiners_key(event_id, first))
    if joiners := plans_joiners(plan):
        puts.append(joiners_item(event_id, min(joiners), joiners))
    return WaitlistWrites(puts, deletes)


@dataclass(frozen=True)
class StoredSeats:
    """The worker's own attributes, beside the counts `Event` carries."""

    seat_version: int  # 0: no seats item yet
    next_wait_seq: int
    changed_at: str  # when a capacity change was last applied


def stored_seats(event_item: dict[str, Any], seats_item: dict[str, Any]) -> StoredSeats:
    """Read from the seats item (an event stored before it existed continues from the counters on
    its event item: `counted_on`)."""
    return StoredSeats(
        int(seats_item.get(SEAT_VERSION, 0)),
        int(counted_on(event_item, seats_item).get("nextWaitSeq", 1)),
        event_item.get("capacityChangedAt", ""),
    )


def seat_attributes(plan: Plan, seat_version: int, lane: LaneProgress) -> dict[str, Any]:
    """What a commit writes on the seats item: the counts, the waitlist's next sequence number,
    the seat version and the lane's progress."""
    return {
        **dict(zip(COUNTS, (plan.confirmed, plan.waitlisted, plan.offered), strict=True)),
        "nextWaitSeq": plan.next_wait_seq,
        SEAT_VERSION: seat_version,
        **lane_attributes(lane),
    }


def edit_attributes(plan: Plan) -> dict[str, Any]:
    """What a commit that applies an organizer's edit writes on the event item besides the edited
    fields: the new version (the ETag) and when the capacity changed."""
    return {"version": plan.version, "capacityChangedAt": plan.changed_at}


def request_status(item: dict[str, Any]) -> tuple[str, RequestStatus] | None:
    """(request id, status) of a request item; None for any other item."""
    if item.get("entity") != "request":
        return None
    return item["requestId"], RequestStatus(item["status"])


LANE_ATTRIBUTES = ("laneThrough", "laneArrivals", "laneRate", "laneAt")


def lane_progress(item: dict[str, Any]) -> LaneProgress:
    """The lane's progress as the worker records it on the seats item."""
    return LaneProgress(
        item.get("laneThrough", ""),
        float(item.get("laneArrivals", 0)),
        float(item.get("laneRate", 0)),
        item.get("laneAt", ""),
    )


def lane_attributes(progress: LaneProgress) -> dict[str, Any]:
    return {
        "laneThrough": progress.through,
        "laneArrivals": Decimal(str(progress.arrivals)),
        "laneRate": Decimal(str(progress.rate)),
        "laneAt": progress.at,
    }


MARK_SEPARATOR = "."  # in no event or user id
# `shared.wire.REQUEST_ID_PATTERN`'s marked shape, here too: the webhook relay reads this module
# and may import nothing of `shared.wire` (a domain's import contract)
_ID = r"[A-Za-z0-9_-]{1,64}"
_MARKED_ID = re.compile(rf"^({_ID})\.({_ID})\.{_ID}$")
_LEGACY_MARKED_ID = re.compile(r"^([0-9a-f]{24})_")  # a SHA-256 of (event, user): ids made before


def marked_request_id(event_id: str, user_id: str, unique: str) -> str:
    """The id of a request kept as its user's pending command for its event: it names the event
    and the user, so the request's mark is found by its id alone (`mark_of`)."""
    return MARK_SEPARATOR.join((event_id, user_id, unique))


def mark_of(request_id: str) -> dict[str, Any] | None:
    """The key of the mark a request is kept as, if its id names one: the person's mark for the
    event, or, for an id made before marks moved to the person's partition, the hash it names."""
    if found := _MARKED_ID.match(request_id):
        return mark_key(found.group(1), found.group(2))
    if found := _LEGACY_MARKED_ID.match(request_id):
        return table.legacy_pending_key(found.group(1))
    return None
