"""Users on the wire: what `POST /users` accepts and how a user is shown."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StrictStr

from chalicelib.shared.wire import Email, Identifier, Shown, WireModel
from chalicelib.users.domain import User


class UserCreate(WireModel):
    userId: Identifier | None = None
    name: Annotated[StrictStr, Field(min_length=1, max_length=200)]
    email: Email | None = None


class UserShown(Shown):
    userId: str
    name: str
    createdAt: str
    email: str | None = None


def user_json(user: User) -> dict[str, Any]:
    body: dict[str, Any] = {"userId": user.user_id, "name": user.name, "createdAt": user.created_at}
    if user.email is not None:
        body["email"] = user.email
    return body
