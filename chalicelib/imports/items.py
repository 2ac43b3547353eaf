"""How an import is stored: the import item and its row errors, in one place. Pure (plain values
in and out; the adapters convert them to DynamoDB's types), so the webhook relay reads import
items through it too (`completed_now`).

import           IMPORT#{importId} / META         TTL none
row error        IMPORT#{importId} / ERROR#{row}#{n}

The adapter's update expressions name an import's fields as `#field` (ImportRecord's names, and
the worker's lease); `attribute_names` maps them to the stored attributes.
"""

from __future__ import annotations

import re
from typing import Any

from chalicelib.imports.domain import COMPLETED, ImportRecord
from chalicelib.shared import table

ENTITY = "import"

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
    "owner_id": "eventOwnerId",
}


_LEASE = {"lease_owner": "leaseOwner", "lease_until": "leaseUntil", "key": "PK"}  # not in the record


def attribute_names(*expressions: str) -> dict[str, str]:
    """ExpressionAttributeNames for expressions that name an import's fields as `#field`."""
    stored = {**_ATTRIBUTES, **_LEASE}
    fields = sorted(set(re.findall(r"#(\w+)", " ".join(expressions))))
    return {f"#{field}": stored[field] for field in fields}


def import_to_item(record: ImportRecord) -> dict[str, Any]:
    item = {attribute: getattr(record, name) for name, attribute in _ATTRIBUTES.items()}
    return {"PK": table.import_pk(record.import_id), "SK": table.META, "entity": ENTITY, **item}


def import_from_item(item: dict[str, Any]) -> ImportRecord:
    values = {name: item[attribute] for name, attribute in _ATTRIBUTES.items() if attribute in item}
    return ImportRecord(**values)


def error_item(import_id: str, row: int, field: str, message: str, index: int) -> dict[str, Any]:
    """One row's error (`index`: its place among the row's errors)."""
    return {
        "PK": table.import_pk(import_id),
        "SK": table.import_error_sk(row, index),
        "entity": "import-error",
        "row": row,
        "field": field,
        "message": message,
    }


def error_fields(item: dict[str, Any]) -> tuple[int, str, str]:
    """(row, field, message) of a row error's item."""
    return int(item["row"]), item["field"], item["message"]


# outcome kind -> the import's counter field (`decided` counts every outcome)
PROGRESS_COUNTERS = {
    "confirmed": "confirmed",
    "waitlisted": "waitlisted",
    "rejected": "rejected",
    "already_registered": "already_registered",
}


def completed_now(old: dict[str, Any] | None, new: dict[str, Any]) -> ImportRecord | None:
    """The import, when this change of its item (old and new image) completes it."""
    if new.get("entity") != ENTITY or new.get("status") != COMPLETED:
        return None
    if old is not None and old.get("status") == COMPLETED:
        return None
    return import_from_item(new)
