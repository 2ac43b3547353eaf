"""Request records in the single table, and the listings over registrations (whose item shape
is `items.py`'s).

request          REQUEST#{requestId} / META       TTL expiresAt
idempotency key  IDEMPOTENCY#{key} / META         TTL expiresAt
mark             USER#{userId} / REG#{eventId}    a user's pending command for the event, the
                                                  request's record while it is pending
                                                  (`items.mark_key`); kept, as the user's list
                                                  of events (no index: the registration is in
                                                  none that lists a user's)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.registrations.domain import ACTIVE, ACTIVE_VIEW, RequestStatus, Standing
from chalicelib.registrations.items import (
    ENTITY,
    LANE_ATTRIBUTES,
    LSI1_SEQ,
    MARK_FREE,
    MARK_HOLDER,
    PENDING_REQUEST,
    PENDING_VALUES,
    claimed,
    failed,
    idempotency_item,
    joined_in,
    lane_progress,
    listing_entry,
    mark_ensured,
    mark_holds,
    mark_item,
    mark_key,
    mark_of,
    open_offer,
    registration_decision,
    registration_from_item,
    request_fields,
    request_item,
    standing_is,
)
from chalicelib.registrations.lanes import LaneProgress
from chalicelib.registrations.ports import HOLD_SECONDS, DueOffer, IdempotencyKeyTaken, RequestRecord
from chalicelib.registrations.stored_waitlist import DynamoWaitlist, Place
from chalicelib.shared import table
from chalicelib.shared.cursor import Position
from chalicelib.shared.dynamo import (
    ITEM_ABSENT,
    applied,
    batch_get,
    error_code,
    from_item,
    index_query,
    plain_key,
    to_item,
    to_value,
)
from chalicelib.shared.problems import InvalidCursor
from chalicelib.shared.recent import Recent

IDEMPOTENCY_TTL_SECONDS = 24 * 3600
MARKS_PAGE = 100  # a person's marks read at a time for their listings (and their registrations)


def record_from_item(item: dict[str, Any]) -> RequestRecord:
    return RequestRecord(**request_fields(item))


class DynamoRequestRepository:
    """Request records, and a user's pending register or cancel kept as their mark for the event
    (one conditional put; the worker writes the record when it decides it)."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def create(self, record: RequestRecord, idempotency: tuple[str, str] | None) -> None:
        item = request_item(record)
        put_request = {"TableName": self._table, "Item": to_item(item), "ConditionExpression": ITEM_ABSENT}
        if idempotency is None:
            self._client.put_item(**put_request)
            return
        key_value, fingerprint = idempotency
        claim = idempotency_item(
            key_value, record.request_id, fingerprint, int(time.time()) + IDEMPOTENCY_TTL_SECONDS
        )
        put_claim = {"TableName": self._table, "Item": to_item(claim), "ConditionExpression": ITEM_ABSENT}
        try:
            self._client.transact_write_items(TransactItems=[{"Put": put_claim}, {"Put": put_request}])
        except ClientError as error:
            if error_code(error) != "TransactionCanceledException":
                raise
            taken = self.find_idempotent(key_value)
            if taken is None:
                raise
            raise IdempotencyKeyTaken(*taken) from None

    def get(self, request_id: str) -> RequestRecord | None:
        """The request's record. A register or cancel kept as its user's mark is read with the
        mark in one call (its id names the mark): the mark is its record while it is pending;
        once decided, a register that confirmed or waitlisted its user is read from the
        registration the mark leads to, which keeps its decision."""
        marked = mark_of(request_id)
        if marked is None:
            return self._own_record(request_id)
        keys = [table.request_key(request_id), marked]
        found = {item["PK"]: item for item in batch_get(self._client, self._table, keys)}
        own, held = found.get(table.request_pk(request_id)), found.get(keys[1]["PK"]["S"])
        if own is not None and own["status"] != RequestStatus.PENDING:
            return record_from_item(own)
        if held is None:
            return record_from_item(own) if own is not None else None
        registration = self._client.get_item(
            TableName=self._table,
            Key=table.registration_key(held["eventId"], held["userId"]),
            ConsistentRead=True,
        ).get("Item")
        decided = registration_decision(from_item(registration), request_id) if registration else None
        if decided is not None:
            return record_from_item(decided)
        if own is not None or mark_holds(held, request_id):
            return record_from_item(own or held)
        return self._own_record(request_id)  # its decision moved off the registration meanwhile

    def _own_record(self, request_id: str) -> RequestRecord | None:
        response = self._client.get_item(
            TableName=self._table, Key=table.request_key(request_id), ConsistentRead=True
        )
        return record_from_item(from_item(response["Item"])) if "Item" in response else None

    def claim(self, record: RequestRecord, now: int) -> RequestRecord | None:
        key = mark_key(record.event_id, record.user_id or "")
        for _ in range(2):
            if self._mark(record, MARK_FREE, {}):
                return None
            item = self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item")
            if item is not None:
                return record_from_item(from_item(item))
        return None  # a mark that keeps vanishing (the event's purge): nothing holds the place

    def take_over(self, record: RequestRecord, holder: str, now: int) -> bool:
        return self._mark(record, MARK_HOLDER, {":holder": {"S": holder}})

    def _mark(self, record: RequestRecord, condition: str, values: dict[str, Any]) -> bool:
        item = mark_item(record)
        request: dict[str, Any] = {
            "TableName": self._table,
            "Item": to_item(item),
            "ConditionExpression": condition,
        }
        if values:
            request["ExpressionAttributeValues"] = values
        return applied(self._client.put_item, **request)

    def existing(self, request_ids: list[str]) -> set[str]:
        keys = [table.request_key(r) for r in dict.fromkeys(request_ids)]
        found = batch_get(self._client, self._table, keys, "PK")
        return {i["PK"].removeprefix(table.request_pk("")) for i in found}

    def find_idempotent(self, key_value: str) -> tuple[str, str] | None:
        response = self._client.get_item(
            TableName=self._table, Key=table.idempotency_key(key_value), ConsistentRead=True
        )
        if "Item" not in response:
            return None
        return claimed(from_item(response["Item"]))

    def mark_failed(self, record: RequestRecord, reason: str, now: str) -> bool:
        return applied(
            self._client.put_item,
            TableName=self._table,
            Item=to_item(failed(record, reason, now)),
            ConditionExpression=PENDING_REQUEST,
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=PENDING_VALUES,
        )

    def release_idempotency(self, key_value: str) -> None:
        self._client.delete_item(TableName=self._table, Key=table.idempotency_key(key_value))


def backfill_marks(client: Any, table_name: str, page_size: int = 500) -> Iterator[int]:
    """Give every registration its person's mark for the event, as the worker's commit does for
    one it makes without (`items.mark_ensured`: a bare mark where there is none, any other left
    as it is): for registrations stored before marks were the people's lists of events, whose
    only entry in a user's listing was an index that is no longer read. Idempotent; yields how
    many registrations it has seen, after each page of the scan."""
    pages = client.get_paginator("scan").paginate(
        TableName=table_name,
        FilterExpression="entity = :registration",
        ProjectionExpression="eventId, userId",
        ExpressionAttributeValues={":registration": {"S": ENTITY}},
        PaginationConfig={"PageSize": page_size},
    )
    seen = 0
    for page in pages:
        for item in map(from_item, page.get("Items", [])):
            key, expression, values = mark_ensured(item["eventId"], item["userId"])
            plain = {name: to_value(value) for name, value in values.items()}
            client.update_item(
                TableName=table_name, Key=key, UpdateExpression=expression, ExpressionAttributeValues=plain
            )
            seen += 1
        yield seen


class DynamoRegistrationQueries:
    """An event's confirmed list (its own partition, by user id), open offers (GSI2) and waitlist
    (in order: `stored_waitlist`); a user's registrations by standing (their marks, then the
    registrations)."""

    def __init__(self, client: Any, table_name: str, count_page: int | None = None) -> None:
        self._client = client
        self._table = table_name
        self._count_page = count_page  # items a page read when counting or filtering (tests: small)
        self._stored_waitlist = DynamoWaitlist(client, table_name, count_page)

    def for_event(
        self, event_id: str, status: str, limit: int, after: Position | None
    ) -> tuple[list[dict[str, Any]], Position | None]:
        if status == "waitlisted":
            return self._waitlist(event_id, limit, after)
        if status == "confirmed":
            return self._confirmed(event_id, limit, after)
        request = self._query(table.GSI2, "GSI2PK", table.event_offered(event_id), limit, after)
        rows, last = self._run(request)
        return [listing_entry(r) for r in rows], last

    def _confirmed(
        self, event_id: str, limit: int, after: Position | None
    ) -> tuple[list[dict[str, Any]], Position | None]:
        """The event's registrations read from its own partition, the confirmed ones kept: no
        index entry, so a confirmation costs one index write fewer. Pages are read on until
        `limit` are found or the partition ends; the position is the last one shown."""
        pk = table.event_pk(event_id)
        confirmed, names, values = standing_is(Standing.CONFIRMED)
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :reg)",
            "FilterExpression": confirmed,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {
                ":pk": {"S": pk},
                ":reg": {"S": table.REGISTRATION_PREFIX},
                **{name: to_value(value) for name, value in values.items()},
            },
        }
        if self._count_page:
            request["Limit"] = self._count_page
        if after:
            if set(after) != {"PK", "SK"} or after["PK"] != pk:
                raise InvalidCursor("The cursor does not belong to this listing.")
            request["ExclusiveStartKey"] = _start_key(after)
        entries: list[dict[str, Any]] = []
        while True:
            response = self._client.query(**request)
            for item in response.get("Items", []):
                entries.append(listing_entry(from_item(item)))
                if len(entries) == limit:
                    return entries, {"PK": pk, "SK": item["SK"]["S"]}
            if "LastEvaluatedKey" not in response:
                return entries, None
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _waitlist(
        self, event_id: str, limit: int, after: Position | None
    ) -> tuple[list[dict[str, Any]], Position | None]:
        """The waitlist in order (`stored_waitlist`), read a page and one more place at a time;
        the position is the last place shown, and how many were shown before it."""
        place, offset = _waitlist_place(after)
        places = list(islice(self._stored_waitlist.places(event_id, place, page=limit + 1), limit + 1))
        shown = self._stored_waitlist.registrations(event_id, places[:limit])
        entries = [{**listing_entry(r), "position": offset + index + 1} for index, r in enumerate(shown)]
        if len(places) <= limit:
            return entries, None
        last = places[limit - 1][0]
        cursor: Position = {"seq": last.seq, "offset": offset + len(shown)}
        return entries, cursor | ({"joinedIn": last.joined_in} if last.joined_in is not None else {})

    def for_user(
        self, user_id: str, status: str, limit: int, after: Position | None
    ) -> tuple[list[dict[str, Any]], Position | None]:
        if status == ACTIVE:
            return self._active_for_user(user_id, limit, after)
        entries: list[dict[str, Any]] = []
        for mark, registration in self._users_registrations(user_id, after):
            if registration is None or registration["status"] != status:
                continue
            entry = listing_entry(registration)
            if status == Standing.WAITLISTED:
                place = Place(registration_from_item(registration).wait_seq or 0, joined_in(registration))
                entry["position"] = self._stored_waitlist.position(registration["eventId"], place)
            entries.append(entry)
            if len(entries) == limit:
                return entries, mark
        return entries, None

    def _users_registrations(
        self, user_id: str, after: Position | None
    ) -> Iterator[tuple[Position, dict[str, Any] | None]]:
        """The person's marks in event order (their list of events: one per event they asked
        something of, `items.mark_key`), each with its registration (None: none now), a page of
        marks and one `BatchGetItem` of their registrations at a time, from after `after`."""
        pk = table.user_pk(user_id)
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :reg)",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":reg": {"S": table.REGISTRATION_PREFIX}},
            "ProjectionExpression": "PK, SK, eventId",
            "Limit": self._count_page or MARKS_PAGE,
        }
        if after:
            if set(after) != {"PK", "SK"} or after["PK"] != pk:
                raise InvalidCursor("The cursor does not belong to this listing.")
            request["ExclusiveStartKey"] = _start_key(after)
        while True:
            response = self._client.query(**request)
            marks = [from_item(i) for i in response.get("Items", [])]
            keys = [table.registration_key(m["eventId"], user_id) for m in marks]
            found = {r["eventId"]: r for r in batch_get(self._client, self._table, keys)}
            for mark in marks:
                yield {"PK": pk, "SK": mark["SK"]}, found.get(mark["eventId"])
            if "LastEvaluatedKey" not in response:
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _active_for_user(
        self, user_id: str, limit: int, after: Position | None
    ) -> tuple[list[dict[str, Any]], Position | None]:
        """Every active registration, one standing after another (ACTIVE_VIEW's order): the
        position names the standing it is in and the last key read there."""
        views = [standing.value for standing in ACTIVE_VIEW]
        after = dict(after or {})
        current = after.pop("standing", views[0])
        if current not in views:
            raise InvalidCursor("The cursor does not belong to this listing.")
        entries: list[dict[str, Any]] = []
        for index in range(views.index(current), len(views)):
            rows, last = self.for_user(user_id, views[index], limit - len(entries), after or None)
            entries += rows
            after = {}
            if last:
                return entries, {**last, "standing": views[index]}
            if len(entries) == limit:
                more = index + 1 < len(views)
                return entries, ({"standing": views[index + 1]} if more else None)
        return entries, None

    def _query(
        self, index: str, partition_name: str, partition: str, limit: int, after: Position | None
    ) -> dict[str, Any]:
        request = index_query(self._table, index, partition_name, partition, limit)
        if after:
            request["ExclusiveStartKey"] = _start_key(after)
        return request

    def _run(self, request: dict[str, Any]) -> tuple[list[dict[str, Any]], Position | None]:
        response = self._client.query(**request)
        rows = [from_item(i) for i in response.get("Items", [])]
        return rows, plain_key(response.get("LastEvaluatedKey"))


class DynamoOpenOffers:
    """Open offers by expiry: the sparse index GSI3 (one partition, `OPEN_OFFERS`), which only
    offered registrations are in (accepting or ending an offer removes its keys)."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def due(self, now: str, limit: int) -> list[DueOffer]:
        request = index_query(self._table, table.GSI3, "GSI3PK", table.OPEN_OFFERS, limit)
        request["KeyConditionExpression"] += " AND GSI3SK < :after"
        request["ExpressionAttributeValues"][":after"] = {"S": f"{now}$"}  # '$' sorts after '#'
        items = [from_item(i) for i in self._client.query(**request).get("Items", [])]
        return [DueOffer(*open_offer(i)) for i in items]


def _waitlist_place(after: Position | None) -> tuple[Place | None, int]:
    """(the last place shown, how many were shown) a waitlist cursor names; also one issued
    while the waitlist was read from LSI1 alone (its last evaluated key, and the offset)."""
    if not after:
        return None, 0
    fields = {**after}
    offset = fields.pop("offset", 0)
    if {"PK", "SK", LSI1_SEQ} == set(fields):
        fields = {"seq": fields[LSI1_SEQ]}
    if not ({"seq"} <= set(fields) <= {"seq", "joinedIn"}) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in [offset, *fields.values()]
    ):
        raise InvalidCursor("The cursor does not belong to this listing.")
    return Place(fields["seq"], fields.get("joinedIn")), offset


def _start_key(after: Position) -> dict[str, Any]:
    if not after or not all(isinstance(v, (str, int)) for v in after.values()):
        raise InvalidCursor("The cursor does not belong to this listing.")
    return {k: ({"N": str(v)} if isinstance(v, int) else {"S": v}) for k, v in after.items()}


LANE_FRESH_SECONDS = 0.5  # a lane's progress read this recently is used again (an estimate)


class DynamoLanes:
    """The progress the worker records on the event's seats item (read with a projection). Each process
    (an API Lambda's container) reuses what it read for LANE_FRESH_SECONDS: in a rush, when many
    requests ask at once, one read serves them, and the estimate moves as the lane does."""

    def __init__(self, client: Any, table_name: str, clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._table = table_name
        self._read: Recent[LaneProgress] = Recent(LANE_FRESH_SECONDS, clock)

    def progress(self, event_id: str) -> LaneProgress:
        return self._read.get(event_id, lambda: self._progress(event_id)) or LaneProgress()

    def _progress(self, event_id: str) -> LaneProgress:
        item = self._client.get_item(
            TableName=self._table,
            Key=table.seats_key(event_id),
            ProjectionExpression=", ".join(LANE_ATTRIBUTES),
        ).get("Item")
        return lane_progress(from_item(item) if item else {})


class DynamoWaitHolds:
    """A small counter item per subject, in no index: two conditional writes per waited request."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def acquire(self, subject: str, now: int, most: int) -> bool:
        values = {
            ":one": {"N": "1"},
            ":most": {"N": str(most)},
            ":now": {"N": str(now)},
            ":until": {"N": str(now + HOLD_SECONDS)},
            ":expires": {"N": str(now + 3600)},
        }
        attempts = (  # one more while the subject's holds are live; else start afresh
            ("holds + :one", "holds < :most AND holdsUntil >= :now"),
            (":one", "attribute_not_exists(holds) OR holdsUntil < :now"),
        )
        for holds, condition in attempts:
            used = {name: value for name, value in values.items() if name in f"{holds} {condition}"}
            if applied(
                self._client.update_item,
                TableName=self._table,
                Key=table.wait_holds_key(subject),
                UpdateExpression=f"SET holds = {holds}, holdsUntil = :until, expiresAt = :expires",
                ConditionExpression=condition,
                ExpressionAttributeValues={
                    **used,
                    ":until": values[":until"],
                    ":expires": values[":expires"],
                },
            ):
                return True
        return False

    def release(self, subject: str) -> None:
        applied(
            self._client.update_item,
            TableName=self._table,
            Key=table.wait_holds_key(subject),
            UpdateExpression="ADD holds :minus",
            ConditionExpression="holds > :zero",
            ExpressionAttributeValues={":minus": {"N": "-1"}, ":zero": {"N": "0"}},
        )
