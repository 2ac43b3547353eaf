"""A tiny reference model of one event's seats: the rules in their plainest form."""

from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.registrations.domain import Outcome


@dataclass
class SeatModel:
    capacity: int
    waitlist_enabled: bool
    is_open: bool = True
    confirmed: list[str] = field(default_factory=list)
    waitlist: list[str] = field(default_factory=list)
    changed_at: str = ""  # when the last applied capacity change was accepted

    def register(self, user: str) -> Outcome:
        if user in self.confirmed:
            return Outcome("already_registered", current_status="confirmed")
        if user in self.waitlist:
            return Outcome("already_registered", current_status="waitlisted")
        if not self.is_open:
            return Outcome("rejected", reason="event_closed")
        if len(self.confirmed) < self.capacity:
            self.confirmed.append(user)
            return Outcome("confirmed")
        if not self.waitlist_enabled:
            return Outcome("rejected", reason="event_full")
        self.waitlist.append(user)
        return Outcome("waitlisted", position=len(self.waitlist))

    def cancel(self, user: str) -> Outcome:
        if user in self.waitlist:
            self.waitlist.remove(user)
            return Outcome("cancelled")
        if user not in self.confirmed:
            return Outcome("not_registered")
        self.confirmed.remove(user)
        return Outcome("cancelled", promoted_user_ids=tuple(self._fill()))

    def change(self, capacity: int, is_open: bool | None, waitlist: bool | None, accepted_at: str) -> Outcome:
        if accepted_at < self.changed_at:  # a newer change was applied since: never undo it
            return Outcome("rejected", reason="superseded")
        self.capacity, self.changed_at = capacity, accepted_at
        if is_open is not None:
            self.is_open = is_open
        if waitlist is not None:
            self.waitlist_enabled = waitlist
        self._fill()
        return Outcome("capacity_changed", capacity=capacity)

    def _fill(self) -> list[str]:
        promoted = []
        while len(self.confirmed) < self.capacity and self.waitlist:
            promoted.append(self.waitlist.pop(0))
            self.confirmed.append(promoted[-1])
        return promoted
