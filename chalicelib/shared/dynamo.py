"""DynamoDB helpers every adapter uses: the attribute codec, named conditions, typed errors.

A conditional write that finds its condition false raises `ConditionFailed` (chained `from` the
ClientError), so adapters say what they expected instead of matching error codes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

# Named condition parts (the table's partition key is PK).
ITEM_ABSENT = "attribute_not_exists(PK)"
ITEM_EXISTS = "attribute_exists(PK)"

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class ConditionFailed(Exception):
    """A conditional write's condition was false: the item is not in the state it expected."""


# --- codec -------------------------------------------------------------------------------------


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    """Plain values -> DynamoDB attribute values; None-valued attributes are left out."""
    return {name: _serializer.serialize(value) for name, value in values.items() if value is not None}


def to_value(value: Any) -> Any:
    return _serializer.serialize(value)


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values -> plain values (whole numbers as int, not Decimal)."""
    return {name: _plain(_deserializer.deserialize(value)) for name, value in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {name: _plain(inner) for name, inner in value.items()}
    if isinstance(value, list):
        return [_plain(inner) for inner in value]
    return value


def plain_key(last_evaluated_key: dict[str, Any] | None) -> dict[str, Any] | None:
    """A query's LastEvaluatedKey as plain values (a page position), or None at the end."""
    return from_item(last_evaluated_key) if last_evaluated_key else None


def index_query(table: str, index: str, partition_name: str, partition: str, limit: int) -> dict[str, Any]:
    """A Query of one partition of an index, `limit` items at a time."""
    return {
        "TableName": table,
        "IndexName": index,
        "KeyConditionExpression": "#pk = :pk",
        "ExpressionAttributeNames": {"#pk": partition_name},
        "ExpressionAttributeValues": {":pk": {"S": partition}},
        "Limit": limit,
    }


# --- errors ------------------------------------------------------------------------------------


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def is_condition_failure(error: ClientError) -> bool:
    return error_code(error) == "ConditionalCheckFailedException"


def is_lost_race(error: ClientError) -> bool:
    """A transaction cancelled by a false condition or a concurrent transaction on its items."""
    code = error_code(error)
    if code in ("TransactionConflictException", "ConditionalCheckFailedException"):
        return True
    return bool(_cancelled_by(error) & {"ConditionalCheckFailed", "TransactionConflict"})


def _cancelled_by(error: ClientError) -> set[str]:
    """Why a cancelled transaction was cancelled: the codes of its items' reasons."""
    if error_code(error) != "TransactionCanceledException":
        return set()
    return {r.get("Code", "") for r in error.response.get("CancellationReasons", [])}


def conditional(call: Callable[..., Any], **request: Any) -> Any:
    """Run one conditional write (put_item, update_item, delete_item); ConditionFailed when its
    condition is false. Every other error propagates unchanged."""
    try:
        return call(**request)
    except ClientError as error:
        if is_condition_failure(error):
            raise ConditionFailed(request.get("ConditionExpression", "")) from error
        raise


def applied(call: Callable[..., Any], **request: Any) -> bool:
    """`conditional`, answering whether the write happened."""
    try:
        conditional(call, **request)
    except ConditionFailed:
        return False
    return True


def set_update(
    table: str, key: dict[str, Any], values: dict[str, Any], condition: str, condition_values: dict[str, Any]
) -> dict[str, Any]:
    """An update's request (UpdateItem's, or a transaction's `Update`): SET every attribute of
    `values` (as `#name = :name`), on `condition`, whose own placeholders are `condition_values`."""
    return {
        "TableName": table,
        "Key": key,
        "UpdateExpression": "SET " + ", ".join(f"#{n} = :{n}" for n in values),
        "ConditionExpression": condition,
        "ExpressionAttributeNames": {f"#{n}": n for n in values},
        "ExpressionAttributeValues": {
            **{f":{n}": to_value(v) for n, v in values.items()},
            **{name: to_value(v) for name, v in condition_values.items()},
        },
    }


TOGETHER_ATTEMPTS = 10  # a transaction cancelled only by concurrent transactions is tried again


def applied_together(client: Any, writes: list[dict[str, Any]]) -> bool:
    """One TransactWriteItems, answering whether it happened: False when one of its conditions
    was false. Cancelled only because another transaction held one of its items (a conflict, not
    a false condition), it is tried again, at most TOGETHER_ATTEMPTS times in all (then the
    conflict is raised, like any other failure of the service)."""
    attempt = 0
    while True:
        try:
            client.transact_write_items(TransactItems=writes)
            return True
        except ClientError as error:
            if is_lost_race(error) and _condition_false(error):
                return False
            if not is_lost_race(error) or attempt == TOGETHER_ATTEMPTS - 1:
                raise
            attempt = _backoff(attempt, True)


def _condition_false(error: ClientError) -> bool:
    return is_condition_failure(error) or "ConditionalCheckFailed" in _cancelled_by(error)


def put_if_absent(client: Any, table: str, item: dict[str, Any]) -> bool:
    """Create an item that must not exist yet; False when its key is taken."""
    return applied(client.put_item, TableName=table, Item=to_item(item), ConditionExpression=ITEM_ABSENT)


# --- batches -----------------------------------------------------------------------------------

BATCH_GET_LIMIT = 100
BATCH_WRITE_LIMIT = 25


def batch_get(
    client: Any, table: str, keys: list[dict[str, Any]], projection: str | None = None
) -> list[dict[str, Any]]:
    """Strongly consistent BatchGetItem over any number of keys, unprocessed keys retried with
    backoff. Items come back as plain values, in no particular order."""
    found: list[dict[str, Any]] = []
    for start in range(0, len(keys), BATCH_GET_LIMIT):
        request: dict[str, Any] = {"Keys": keys[start : start + BATCH_GET_LIMIT], "ConsistentRead": True}
        if projection:
            request["ProjectionExpression"] = projection
        pending: dict[str, Any] = {table: request}
        attempt = 0
        while pending:
            response = client.batch_get_item(RequestItems=pending)
            found += [from_item(i) for i in response["Responses"].get(table, [])]
            pending = response.get("UnprocessedKeys") or {}
            attempt = _backoff(attempt, bool(pending))
    return found


def batch_write(client: Any, table: str, requests: list[dict[str, Any]]) -> None:
    """BatchWriteItem of PutRequest/DeleteRequest entries, 25 at a time, unprocessed ones retried."""
    for start in range(0, len(requests), BATCH_WRITE_LIMIT):
        pending: dict[str, Any] = {table: requests[start : start + BATCH_WRITE_LIMIT]}
        attempt = 0
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            attempt = _backoff(attempt, bool(pending))


def _backoff(attempt: int, again: bool) -> int:
    if again:
        time.sleep(min(0.05 * 2 ** (attempt + 1), 1.0))
    return attempt + 1
