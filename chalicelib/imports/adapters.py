"""boto3 adapters of the import ports: the import item and its errors (DynamoDB), payloads (S3),
the imports queue and the registrations feed (SQS), user and request look-ups (DynamoDB)."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.adapters import items
from chalicelib.adapters.dynamo_codec import from_item, key, to_item, to_value
from chalicelib.adapters.dynamodb import DynamoEventRepository, is_condition_failure, put_if_absent
from chalicelib.domain.users import User
from chalicelib.errors import InvalidCursor
from chalicelib.imports.ports import COMPLETED, FAILED, RUNNING, VALIDATING, ImportRecord, Position
from chalicelib.imports.rows import RowError
from chalicelib.messages import CommandMessage
from chalicelib.ports import QueueUnavailable

ENTITY = "import"
ERROR_PREFIX = "ERROR#"
USERS_PER_TRANSACTION = 25

# ImportRecord field -> item attribute
_ATTRIBUTES = {
    "import_id": "importId",
    "event_id": "eventId",
    "status": "status",
    "created_at": "createdAt",
    "dry_run": "dryRun",
    "media_type": "mediaType",
    "payload_key": "payloadKey",
    "fingerprint": "fingerprint",
    "total": "total",
    "valid": "valid",
    "invalid": "invalid",
    "enqueued": "enqueued",
    "pending": "pending",
    "users_created": "usersCreated",
    "decided": "decided",
    "confirmed": "confirmed",
    "waitlisted": "waitlisted",
    "rejected": "rejected",
    "already_registered": "alreadyRegistered",
    "updated_at": "updatedAt",
    "completed_at": "completedAt",
    "failure": "failure",
}


def import_pk(import_id: str) -> str:
    return f"IMPORT#{import_id}"


def import_to_item(record: ImportRecord) -> dict[str, Any]:
    item = {attribute: getattr(record, name) for name, attribute in _ATTRIBUTES.items()}
    return {"PK": import_pk(record.import_id), "SK": items.META, "entity": ENTITY, **item}


def import_from_item(item: dict[str, Any]) -> ImportRecord:
    values = {name: item[attribute] for name, attribute in _ATTRIBUTES.items() if attribute in item}
    return ImportRecord(**values)


class DynamoImportRepository:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def _key(self, import_id: str) -> dict[str, Any]:
        return key(import_pk(import_id), items.META)

    def _update(self, import_id: str, expression: str, condition: str = "", **values: Any) -> bool:
        """An UpdateItem; every `#name` in the expressions is the attribute of that name."""
        names = {f"#{n}": n for n in re.findall(r"#(\w+)", expression + " " + condition)}
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": self._key(import_id),
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
        }
        if values:
            request["ExpressionAttributeValues"] = {f":{n}": to_value(v) for n, v in values.items()}
        if condition:
            request["ConditionExpression"] = condition
        try:
            self._client.update_item(**request)
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    def create(self, record: ImportRecord) -> bool:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_item(import_to_item(record)),
                ConditionExpression="attribute_not_exists(PK)",
            )
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    def get(self, import_id: str) -> ImportRecord | None:
        response = self._client.get_item(TableName=self._table, Key=self._key(import_id), ConsistentRead=True)
        item = response.get("Item")
        if not item or item.get("entity", {}).get("S") != ENTITY:
            return None
        return import_from_item(from_item(item))

    def acquire(self, import_id: str, owner: str, now: int, until: int) -> bool:
        return self._update(
            import_id,
            "SET #leaseOwner = :owner, #leaseUntil = :until",
            "attribute_exists(#PK) AND (attribute_not_exists(#leaseUntil) OR #leaseUntil < :now "
            "OR #leaseOwner = :owner)",
            owner=owner,
            until=until,
            now=now,
        )

    def release(self, import_id: str, owner: str) -> None:
        self._update(import_id, "REMOVE #leaseOwner, #leaseUntil", "#leaseOwner = :owner", owner=owner)

    def start_validation(self, import_id: str, now: str) -> bool:
        return self._update(
            import_id,
            "SET #status = :validating, #updatedAt = :now",
            "#status IN (:queued, :validating)",
            validating=VALIDATING,
            queued="queued",
            now=now,
        )

    def validated(
        self, import_id: str, valid: int, invalid: int, users_created: int, status: str, now: str
    ) -> None:
        expression = "SET #status = :status, #valid = :valid, #invalid = :invalid, #usersCreated = :created, "
        expression += "#updatedAt = :now" + (", #completedAt = :now" if status == COMPLETED else "")
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
        )

    def begin_batch(self, import_id: str, enqueued: int, pending: int, now: str) -> bool:
        return self._update(
            import_id,
            "SET #pending = :pending, #updatedAt = :now",
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
            "SET #status = :completed, #completedAt = :now, #updatedAt = :now",
            "#status = :running AND #enqueued = #valid AND #decided >= #valid "
            "AND attribute_not_exists(#pending)",
            completed=COMPLETED,
            running=RUNNING,
            now=now,
        )

    def fail(self, import_id: str, reason: str, now: str) -> None:
        self._update(
            import_id,
            "SET #status = :failed, #failure = :reason, #completedAt = :now, #updatedAt = :now",
            "attribute_exists(#PK) AND #status <> :completed",
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
            item = {
                "PK": import_pk(import_id),
                "SK": f"{ERROR_PREFIX}{error.row:06d}#{index:02d}",
                "entity": "import-error",
                "row": error.row,
                "field": error.field,
                "message": error.message,
            }
            puts.append({"PutRequest": {"Item": to_item(item)}})
        for start in range(0, len(puts), 25):
            request = {self._table: puts[start : start + 25]}
            attempt = 0
            while request:
                request = self._client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
                attempt += 1
                if request:
                    time.sleep(min(0.05 * 2**attempt, 1.0))

    def errors(
        self, import_id: str, limit: int, after: Position | None
    ) -> tuple[list[RowError], Position | None]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": import_pk(import_id)}, ":prefix": {"S": ERROR_PREFIX}},
            "Limit": limit,
        }
        if after is not None:
            valid = set(after) == {"PK", "SK"} and after.get("PK") == import_pk(import_id)
            if not valid or not str(after.get("SK", "")).startswith(ERROR_PREFIX):
                raise InvalidCursor("The cursor does not belong to this listing.")
            request["ExclusiveStartKey"] = {"PK": {"S": after["PK"]}, "SK": {"S": after["SK"]}}
        response = self._client.query(**request)
        found = [from_item(i) for i in response.get("Items", [])]
        errors = [RowError(int(i["row"]), i["field"], i["message"]) for i in found]
        last = response.get("LastEvaluatedKey")
        return errors, ({k: v["S"] for k, v in last.items()} if last else None)


class S3PayloadStore:
    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self._client.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType=content_type)

    def get(self, key: str) -> bytes:
        try:
            return self._client.get_object(Bucket=self._bucket, Key=key)["Body"].read()
        except ClientError as error:
            if error.response["Error"]["Code"] in ("NoSuchKey", "404"):
                raise KeyError(key) from None
            raise


class SqsImportQueue:
    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self._url = queue_url

    def send(self, message: dict[str, Any], delay_seconds: int = 0) -> None:
        try:
            self._client.send_message(
                QueueUrl=self._url, MessageBody=json.dumps(message), DelaySeconds=delay_seconds
            )
        except (ClientError, BotoCoreError) as error:
            raise QueueUnavailable(str(error)) from error


class SqsRegistrationFeed:
    """Import rows into registrations.fifo: the event's group, deduplicated by import and row."""

    def __init__(self, client: Any, queue_url: str, attempts: int = 5) -> None:
        self._client = client
        self._url = queue_url
        self._attempts = attempts

    def send(self, messages: list[CommandMessage]) -> None:
        entries = {
            str(i): {
                "Id": str(i),
                "MessageBody": m.body(),
                "MessageGroupId": m.eventId,
                "MessageDeduplicationId": f"import:{m.importId}:{m.row}",
            }
            for i, m in enumerate(messages)
        }
        for attempt in range(self._attempts):
            response = self._client.send_message_batch(QueueUrl=self._url, Entries=list(entries.values()))
            failed = response.get("Failed", [])
            if not failed:
                return
            if any(f.get("SenderFault") for f in failed):
                raise QueueUnavailable(f"registrations.fifo refused import rows: {failed}")
            entries = {f["Id"]: entries[f["Id"]] for f in failed}
            time.sleep(min(0.1 * 2**attempt, 2.0))
        raise QueueUnavailable(f"registrations.fifo did not take {len(entries)} import rows")


def _batch_get(client: Any, table: str, keys: list[dict[str, Any]], projection: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for start in range(0, len(keys), 100):
        request = {
            table: {
                "Keys": keys[start : start + 100],
                "ProjectionExpression": projection,
                "ConsistentRead": True,
            }
        }
        attempt = 0
        while request:
            response = client.batch_get_item(RequestItems=request)
            found += [from_item(i) for i in response["Responses"].get(table, [])]
            request = response.get("UnprocessedKeys") or {}
            attempt += 1
            if request:
                time.sleep(min(0.05 * 2**attempt, 1.0))
    return found


class DynamoUserDirectory:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def existing(self, user_ids: list[str]) -> set[str]:
        keys = [key(items.user_pk(u), items.META) for u in dict.fromkeys(user_ids)]
        return {i["PK"].removeprefix("USER#") for i in _batch_get(self._client, self._table, keys, "PK")}

    def create(self, users: list[User]) -> int:
        """Conditional puts, 25 per transaction (DynamoDB Local is much slower with 100); a chunk that
        meets an existing user goes one by one."""
        created = 0
        for start in range(0, len(users), USERS_PER_TRANSACTION):
            chunk = users[start : start + USERS_PER_TRANSACTION]
            puts = [
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": to_item(items.user_to_item(user)),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                }
                for user in chunk
            ]
            try:
                self._client.transact_write_items(TransactItems=puts)
                created += len(chunk)
            except ClientError as error:
                if error.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                created += sum(self._create_one(user) for user in chunk)
        return created

    def _create_one(self, user: User) -> bool:
        return put_if_absent(self._client, self._table, items.user_to_item(user))


class DynamoRequestLookup:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def completed(self, request_ids: list[str]) -> set[str]:
        keys = [key(items.request_pk(r), items.META) for r in dict.fromkeys(request_ids)]
        return {i["PK"].removeprefix("REQUEST#") for i in _batch_get(self._client, self._table, keys, "PK")}


class DynamoEventLookup:
    def __init__(self, client: Any, table: str) -> None:
        self._events = DynamoEventRepository(client, table)

    def exists(self, event_id: str) -> bool:
        return self._events.get(event_id) is not None
