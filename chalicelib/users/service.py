"""Use cases for users."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.shared.clock import Clock, IdGenerator
from chalicelib.shared.problems import Conflict, NotFound
from chalicelib.users.domain import User
from chalicelib.users.ports import UserRepository


@dataclass
class UserService:
    users: UserRepository
    clock: Clock
    ids: IdGenerator

    def create(self, name: str, email: str | None = None, user_id: str | None = None) -> User:
        user = User(
            user_id=user_id or self.ids.new_id(),
            name=name,
            email=email,
            created_at=self.clock.now(),
        )
        if not self.users.add(user):
            raise Conflict(f"A user with userId '{user.user_id}' already exists.")
        return user

    def get(self, user_id: str) -> User:
        user = self.users.get(user_id)
        if user is None:
            raise NotFound(f"No user with userId '{user_id}'.")
        return user
