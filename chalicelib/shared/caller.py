"""Who is calling: the verified subject and groups of a bearer token, or nobody (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.shared.problems import Forbidden, Unauthorized

ORGANIZERS = "organizers"
ADMINS = "admins"


@dataclass(frozen=True)
class Caller:
    """`subject` is the caller's user id (the token's `sub`); None for an anonymous caller."""

    subject: str | None
    groups: frozenset[str] = field(default_factory=frozenset)

    @property
    def anonymous(self) -> bool:
        return self.subject is None

    @property
    def is_admin(self) -> bool:
        return ADMINS in self.groups

    @property
    def is_organizer(self) -> bool:
        """May publish events and subscribe to webhooks (admins may too)."""
        return ORGANIZERS in self.groups or self.is_admin

    def require(self) -> str:
        """The subject; Unauthorized (401) for an anonymous caller."""
        if self.subject is None:
            raise Unauthorized("This needs a bearer token: `Authorization: Bearer <token>`.")
        return self.subject

    def require_organizer(self) -> str:
        """The subject of an organizer or admin; 401 anonymous, 403 anyone else."""
        subject = self.require()
        if not self.is_organizer:
            raise Forbidden("Only organizers and admins may do this.")
        return subject

    def is_user(self, user_id: str | None) -> bool:
        return self.subject is not None and self.subject == user_id

    def owns(self, owner_id: str | None) -> bool:
        """Owner of a resource whose owner is `owner_id`, or an admin (who may do anything).
        A resource without an owner (made before owners existed) is the admins' alone."""
        return self.is_admin or (bool(owner_id) and self.is_user(owner_id))


ANONYMOUS = Caller(None)
