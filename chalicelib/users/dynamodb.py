"""Users in the single table: `USER#{userId}` / `META`."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chalicelib.shared import table
from chalicelib.shared.dynamo import ITEM_ABSENT, batch_get, error_code, from_item, put_if_absent, to_item
from chalicelib.users.domain import User

USERS_PER_TRANSACTION = 25  # DynamoDB Local is much slower with 100


def user_to_item(user: User) -> dict[str, Any]:
    return {
        "PK": table.user_pk(user.user_id),
        "SK": table.META,
        "entity": "user",
        "userId": user.user_id,
        "name": user.name,
        "email": user.email,
        "createdAt": user.created_at,
    }


def user_from_item(item: dict[str, Any]) -> User:
    return User(
        user_id=item["userId"],
        name=item["name"],
        email=item.get("email"),
        created_at=item.get("createdAt", ""),
    )


class DynamoUserRepository:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def add(self, user: User) -> bool:
        return put_if_absent(self._client, self._table, user_to_item(user))

    def get(self, user_id: str) -> User | None:
        response = self._client.get_item(TableName=self._table, Key=table.user_key(user_id))
        item = response.get("Item")
        return user_from_item(from_item(item)) if item else None

    def get_many(self, user_ids: list[str]) -> dict[str, User]:
        keys = [table.user_key(u) for u in dict.fromkeys(user_ids)]
        return {i["userId"]: user_from_item(i) for i in batch_get(self._client, self._table, keys)}

    def add_many(self, users: list[User]) -> int:
        """Conditional puts, USERS_PER_TRANSACTION per transaction; a chunk that meets an existing
        user goes one by one."""
        created = 0
        for start in range(0, len(users), USERS_PER_TRANSACTION):
            chunk = users[start : start + USERS_PER_TRANSACTION]
            puts = [
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": to_item(user_to_item(u)),
                        "ConditionExpression": ITEM_ABSENT,
                    }
                }
                for u in chunk
            ]
            try:
                self._client.transact_write_items(TransactItems=puts)
                created += len(chunk)
            except ClientError as error:
                if error_code(error) != "TransactionCanceledException":
                    raise
                created += sum(self.add(user) for user in chunk)
        return created
