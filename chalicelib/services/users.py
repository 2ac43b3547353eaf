"""Use cases for users."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.users import User
from chalicelib.errors import Conflict, NotFound
from chalicelib.ports import Clock, IdGenerator, UserRepository
from chalicelib.schemas import UserCreate


@dataclass
class UserService:
    users: UserRepository
    clock: Clock
    ids: IdGenerator

    def create(self, request: UserCreate) -> User:
        user = User(
            user_id=request.userId or self.ids.new_id(),
            name=request.name,
            email=request.email,
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
