"""Imports in the single table (the items' shapes are `items.py`'s), and the hook that counts
decided rows on the import item inside the registration worker's own transaction."""

from __future__ import annotations

from typing import Any

from chalicelib.imports.domain import AWAITING_UPLOAD, COMPLETED, FAILED, RUNNING, VALIDATING, ImportRecord
from chalicelib.imports.items import (
    ENTITY,
    PROGRESS_COUNTERS,
    attribute_names,
    error_fields,
    error_item,
    import_from_item,
    import_to_item,
)
from chalicelib.imports.rows import RowError
from chalicelib.registrations.domain import Outcome
from chalicelib.registrations.ports import RequestRecord
from chalicelib.shared import table
from chalicelib.shared.cursor import Position
from chalicelib.shared.dynamo import applied, batch_write, from_item, put_if_absent, to_item, to_value
from chalicelib.shared.problems import InvalidCursor

USERS_PER_TRANSACTION = 25


class DynamoImportRepository:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def _update(self, import_id: str, expression: str, condition: str = "", **values: Any) -> bool:
        """An UpdateItem; every `#field` in the expressions is the import's field of that name."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": table.import_key(import_id),
            "UpdateExpression": expression,
            "ExpressionAttributeNames": attribute_names(expression, condition),
        }
        if values:
            request["ExpressionAttributeValues"] = {f":{n}": to_value(v) for n, v in values.items()}
        if condition:
            request["ConditionExpression"] = condition
        return applied(self._client.update_item, **request)

    def create(self, record: ImportRecord) -> bool:
        return put_if_absent(self._client, self._table, import_to_item(record))

    def get(self, import_id: str) -> ImportRecord | None:
        response = self._client.get_item(
            TableName=self._table, Key=table.import_key(import_id), ConsistentRead=True
        )
        item = response.get("Item")
        if not item or item.get("entity", {}).get("S") != ENTITY:
            return None
        return import_from_item(from_item(item))

    def acquire(self, import_id: str, owner: str, now: int, until: int) -> bool:
        return self._update(
            import_id,
            "SET #lease_owner = :owner, #lease_until = :until",
            "attribute_exists(#key) AND (attribute_not_exists(#lease_until) OR #lease_until < :now "
            "OR #lease_owner = :owner)",
            owner=owner,
            until=until,
            now=now,
        )

    def release(self, import_id: str, owner: str) -> None:
        self._update(import_id, "REMOVE #lease_owner, #lease_until", "#lease_owner = :owner", owner=owner)

    def start_validation(self, import_id: str, now: str) -> bool:
        return self._update(
            import_id,
            "SET #status = :validating, #updated_at = :now",
            "#status IN (:queued, :awaiting, :validating)",
            validating=VALIDATING,
            queued="queued",
            awaiting=AWAITING_UPLOAD,
            now=now,
        )

    def validated(
        self,
        import_id: str,
        valid: int,
        invalid: int,
        users_created: int,
        status: str,
        now: str,
        total: int | None = None,
    ) -> None:
        expression = "SET #status = :status, #valid = :valid, #invalid = :invalid, "
        expression += "#users_created = :created, #updated_at = :now"
        expression += ", #completed_at = :now" if status == COMPLETED else ""
        counted = {} if total is None else {"total": total}
        expression += ", #total = :total" if counted else ""
        self._update(
            import_id,
            expression,
            "#status = :validating",
            status=status,
            valid=valid,
            invalid=invalid,
            created=users_created,
            now=now,
            validating=VALIDATING,
            **counted,
        )

    def begin_batch(self, import_id: str, enqueued: int, pending: int, now: str) -> bool:
        return self._update(
            import_id,
            "SET #pending = :pending, #updated_at = :now",
            "#status = :running AND #enqueued = :enqueued AND attribute_not_exists(#pending)",
            pending=pending,
            enqueued=enqueued,
            running=RUNNING,
            now=now,
        )

    def end_batch(self, import_id: str, pending: int) -> None:
        self._update(
            import_id, "SET #enqueued = :pending REMOVE #pending", "#pending = :pending", pending=pending
        )

    def complete(self, import_id: str, now: str) -> bool:
        return self._update(
            import_id,
            "SET #status = :completed, #completed_at = :now, #updated_at = :now",
            "#status = :running AND #enqueued = #valid AND #decided >= #valid "
            "AND attribute_not_exists(#pending)",
            completed=COMPLETED,
            running=RUNNING,
            now=now,
        )

    def fail(self, import_id: str, reason: str, now: str) -> None:
        self._update(
            import_id,
            "SET #status = :failed, #failure = :reason, #completed_at = :now, #updated_at = :now",
            "attribute_exists(#key) AND #status <> :completed",
            failed=FAILED,
            reason=reason,
            now=now,
            completed=COMPLETED,
        )

    def add_errors(self, import_id: str, errors: list[RowError]) -> None:
        puts = []
        index_in_row: dict[int, int] = {}
        for error in errors:
            index = index_in_row[error.row] = index_in_row.get(error.row, -1) + 1
            item = error_item(import_id, error.row, error.field, error.message, index)
            puts.append({"PutRequest": {"Item": to_item(item)}})
        batch_write(self._client, self._table, puts)

    def errors(
        self, import_id: str, limit: int, after: Position | None
    ) -> tuple[list[RowError], Position | None]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": {
                ":pk": {"S": table.import_pk(import_id)},
                ":prefix": {"S": table.IMPORT_ERROR_PREFIX},
            },
            "Limit": limit,
        }
        if after is not None:
            valid = set(after) == {"PK", "SK"} and after.get("PK") == table.import_pk(import_id)
            if not valid or not str(after.get("SK", "")).startswith(table.IMPORT_ERROR_PREFIX):
                raise InvalidCursor("The cursor does not belong to this listing.")
            request["ExclusiveStartKey"] = {"PK": {"S": after["PK"]}, "SK": {"S": after["SK"]}}
        response = self._client.query(**request)
        found = [from_item(i) for i in response.get("Items", [])]
        errors = [RowError(*error_fields(i)) for i in found]
        last = response.get("LastEvaluatedKey")
        return errors, ({k: v["S"] for k, v in last.items()} if last else None)


class ImportProgress:
    """A `CommitHook` of the registration worker's seat store: per import among the decided
    requests, one ADD of its counters, committed atomically with the decisions it counts."""

    def __init__(self, table_name: str) -> None:
        self._table = table_name

    def writes(self, decided: list[tuple[RequestRecord, Outcome]]) -> list[dict[str, Any]]:
        tallies: dict[str, dict[str, int]] = {}
        for request, outcome in decided:
            if request.import_id:
                tally = tallies.setdefault(
                    request.import_id, {"decided": 0, **dict.fromkeys(PROGRESS_COUNTERS.values(), 0)}
                )
                tally["decided"] += 1
                counter = PROGRESS_COUNTERS.get(outcome.kind)
                if counter:
                    tally[counter] += 1
        return [self._add(import_id, tally) for import_id, tally in tallies.items()]

    def _add(self, import_id: str, tally: dict[str, int]) -> dict[str, Any]:
        expression = "ADD " + ", ".join(f"#{n} :{n}" for n in tally)
        return {
            "Update": {
                "TableName": self._table,
                "Key": table.import_key(import_id),
                "UpdateExpression": expression,
                "ExpressionAttributeNames": attribute_names(expression),
                "ExpressionAttributeValues": {f":{n}": {"N": str(v)} for n, v in tally.items()},
            }
        }
