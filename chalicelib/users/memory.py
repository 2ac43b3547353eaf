"""Users in memory, with the same contract as `users.dynamodb` (tests/contracts prove it)."""

from __future__ import annotations

import threading

from chalicelib.users.domain import User


class MemoryUserRepository:
    def __init__(self) -> None:
        self._users: dict[str, User] = {}
        self._lock = threading.Lock()

    def add(self, user: User) -> bool:
        with self._lock:
            if user.user_id in self._users:
                return False
            self._users[user.user_id] = user
            return True

    def get(self, user_id: str) -> User | None:
        return self._users.get(user_id)

    def get_many(self, user_ids: list[str]) -> dict[str, User]:
        return {u: self._users[u] for u in user_ids if u in self._users}

    def add_many(self, users: list[User]) -> int:
        return sum(self.add(user) for user in users)
