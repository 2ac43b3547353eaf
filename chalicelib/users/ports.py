"""What the users service (and the import worker, through the same port) needs from storage."""

from __future__ import annotations

from typing import Protocol

from chalicelib.users.domain import User


class UserRepository(Protocol):
    def add(self, user: User) -> bool:
        """Store a new user; False when the id is taken (never overwrites)."""
        ...

    def get(self, user_id: str) -> User | None: ...

    def get_many(self, user_ids: list[str]) -> dict[str, User]:
        """The users among these ids that exist, by id."""
        ...

    def add_many(self, users: list[User]) -> int:
        """Create the users that do not exist yet (never overwrite one); returns how many."""
        ...
