"""An event's waitlist as DynamoDB holds it, read in order: the worker's head of the waitlist,
the waitlist's listing, and a waiting person's position.

Two parts, the first wholly ahead of the second (places are taken in turn):

1. registrations waitlisted before the joiners items, each an LSI1 entry keyed by its place
   (`waitSeq`); an LSI cannot be dropped, so they stay there until their next move;
2. the joiners items (`WAIT#{firstSeq}`, `items.waitlist_writes`), each one batch's joiners still
   waiting, by place; a joiner's registration is read from the event's partition.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from chalicelib.registrations.domain import Standing
from chalicelib.registrations.items import (
    LSI1_SEQ,
    Joiners,
    joiners_from_item,
    registration_from_item,
)
from chalicelib.shared import table
from chalicelib.shared.dynamo import batch_get, from_item

LAST_JOINERS = table.joiners_key("", 10**15 - 1)["SK"]["S"]  # sorts after every joiners item


@dataclass(frozen=True)
class Place:
    """A place in the waitlist: its number, the joiners item holding it (None: LSI1's entry) and
    whose it is ("" where the LSI1 entry says)."""

    seq: int
    joined_in: int | None = None
    user_id: str = ""


@dataclass
class Head:
    """The first waiting registrations (items, in order), whether that is all of them, and every
    joiners item read (first place -> content), whole."""

    registrations: list[dict[str, Any]]
    complete: bool
    joiners: dict[int, Joiners] = field(default_factory=dict)


class DynamoWaitlist:
    def __init__(self, client: Any, table_name: str, page: int | None = None) -> None:
        self._client = client
        self._table = table_name
        self._page = page  # items a query page holds (tests: small, to cross page ends)

    def head(self, event_id: str, size: int) -> Head:
        """The first `size` waiting, consistently read."""
        joiners: dict[int, Joiners] = {}
        taken = list(islice(self.places(event_id, None, joiners, page=size + 1), size + 1))
        registrations = self.registrations(event_id, taken[:size])
        return Head(registrations, complete=len(taken) <= size, joiners=joiners)

    def places(
        self,
        event_id: str,
        after: Place | None,
        joiners: dict[int, Joiners] | None = None,
        page: int | None = None,
    ) -> Iterator[tuple[Place, dict[str, Any] | None]]:
        """The waitlist's places in order, from after `after`, each with its registration's item
        where the read gave it (LSI1's entries; a joiners item's are read by `registrations`).
        Each joiners item read is put in `joiners`, whole. `page`: items a query reads at once."""
        if after is None or after.joined_in is None:
            for item in self._lsi1(event_id, None if after is None else after.seq, page):
                yield Place(int(item[LSI1_SEQ])), item
        start = 0 if after is None else after.joined_in or 0
        for first, content in self._joiners_items(event_id, start, page=page):
            if joiners is not None:
                joiners[first] = content
            for seq in sorted(content):
                if after is None or seq > after.seq:
                    yield Place(seq, first, content[seq]), None

    def registrations(
        self, event_id: str, places: list[tuple[Place, dict[str, Any] | None]]
    ) -> list[dict[str, Any]]:
        """The registration items of these places, in their order (one `BatchGetItem` for those
        the read did not give)."""
        keys = [table.registration_key(event_id, p.user_id) for p, item in places if item is None]
        found = {item["userId"]: item for item in batch_get(self._client, self._table, keys)}
        waiting = []
        for place, read in places:
            item = read if read is not None else found.get(place.user_id)
            if item is not None and _waiting_at(item, place.seq):
                waiting.append(item)
        return waiting

    def position(self, event_id: str, place: Place) -> int:
        """1 + how many wait ahead of `place`: LSI1's entries ahead, and the places in joiners
        items ahead (a count; no registration is read)."""
        ahead = self._lsi1_count(event_id, None if place.joined_in is not None else place.seq)
        if place.joined_in is not None:
            for first, content in self._joiners_items(event_id, 0, last=place.joined_in, page=None):
                ahead += sum(1 for seq in content if first < place.joined_in or seq < place.seq)
        return ahead + 1

    def _lsi1(self, event_id: str, after_seq: int | None, page: int | None) -> Iterator[dict[str, Any]]:
        request = self._lsi1_query(event_id, f"{LSI1_SEQ} > :seq" if after_seq is not None else None, page)
        if after_seq is not None:
            request["ExpressionAttributeValues"][":seq"] = {"N": str(after_seq)}
        for items in self._pages(request):
            yield from items

    def _lsi1_count(self, event_id: str, before_seq: int | None) -> int:
        """How many LSI1 entries (before `before_seq`; None: all), page by page (DynamoDB
        counts at most 1 MB of items per page)."""
        request = self._lsi1_query(event_id, f"{LSI1_SEQ} < :seq" if before_seq is not None else None, None)
        if before_seq is not None:
            request["ExpressionAttributeValues"][":seq"] = {"N": str(before_seq)}
        request["Select"] = "COUNT"
        counted = 0
        while True:
            response = self._client.query(**request)
            counted += int(response["Count"])
            if "LastEvaluatedKey" not in response:
                return counted
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _lsi1_query(self, event_id: str, seq_condition: str | None, page: int | None) -> dict[str, Any]:
        condition = "PK = :pk" + (f" AND {seq_condition}" if seq_condition else "")
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": table.LSI1,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": {":pk": {"S": table.event_pk(event_id)}},
            "ConsistentRead": True,
        }
        if page or self._page:
            request["Limit"] = page or self._page
        return request

    def _joiners_items(
        self, event_id: str, first: int, page: int | None, last: int | None = None
    ) -> Iterator[tuple[int, Joiners]]:
        """The joiners items from the one whose first place is `first` (to the one whose first
        place is `last`), in order."""
        upper = table.joiners_key(event_id, last)["SK"]["S"] if last is not None else LAST_JOINERS
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND SK BETWEEN :first AND :last",
            "ExpressionAttributeValues": {
                ":pk": {"S": table.event_pk(event_id)},
                ":first": table.joiners_key(event_id, first)["SK"],
                ":last": {"S": upper},
            },
            "ConsistentRead": True,
        }
        if page or self._page:
            request["Limit"] = page or self._page
        for items in self._pages(request):
            yield from map(joiners_from_item, items)

    def _pages(self, request: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
        while True:
            response = self._client.query(**request)
            yield [from_item(i) for i in response.get("Items", [])]
            if "LastEvaluatedKey" not in response:
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _waiting_at(item: dict[str, Any], seq: int) -> bool:
    """Whether a joiner's registration still waits at that place (a commit that moves them takes
    them out of their joiners item, so it always does; a check, not a filter)."""
    registration = registration_from_item(item)
    return registration.standing is Standing.WAITLISTED and registration.wait_seq == seq
