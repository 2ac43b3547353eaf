"""Use cases for users."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.shared.caller import Caller
from chalicelib.shared.clock import Clock, IdGenerator
from chalicelib.shared.problems import Conflict, Forbidden, NotFound
from chalicelib.users.domain import User
from chalicelib.users.ports import UserRepository


@dataclass
class UserService:
    """A signed-in caller creates their own profile (its id is their token's subject) and reads
    it; admins create and read anyone's. Anyone else's profile is a 404, as a missing one."""

    users: UserRepository
    clock: Clock
    ids: IdGenerator

    def create(self, caller: Caller, name: str, email: str | None = None, user_id: str | None = None) -> User:
        subject = caller.require()
        if not caller.is_admin:
            if user_id not in (None, subject):
                raise Forbidden("You may create only your own profile: omit userId, or use your own.")
            user_id = subject
        user = User(
            user_id=user_id or self.ids.new_id(),
            name=name,
            email=email,
            created_at=self.clock.now(),
        )
        if not self.users.add(user):
            raise Conflict(f"A user with userId '{user.user_id}' already exists.")
        return user

    def get(self, caller: Caller, user_id: str) -> User:
        caller.require()
        user = self.users.get(user_id) if caller.is_user(user_id) or caller.is_admin else None
        if user is None:
            raise NotFound(f"No user with userId '{user_id}'.")
        return user
