"""A tiny reference model of one event's seats: the rules in their plainest form."""

from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.registrations.domain import Outcome, offer_expiry


@dataclass
class SeatModel:
    capacity: int
    waitlist_enabled: bool
    is_open: bool = True
    offer_ttl: int | None = None  # None: a freed seat goes to the head at once
    confirmed: list[str] = field(default_factory=list)
    waitlist: list[str] = field(default_factory=list)
    offers: dict[str, str] = field(default_factory=dict)  # open offers: user -> when it lapses
    ended: dict[str, str] = field(default_factory=dict)  # user -> declined | offer_expired
    changed_at: str = ""  # when the last applied capacity change was accepted

    def register(self, user: str) -> Outcome:
        held = {"confirmed": self.confirmed, "waitlisted": self.waitlist, "offered": list(self.offers)}
        for status, holders in held.items():
            if user in holders:
                return Outcome("already_registered", current_status=status)
        if not self.is_open:
            return Outcome("rejected", reason="event_closed")
        if len(self.confirmed) + len(self.offers) < self.capacity:
            self.ended.pop(user, None)  # an ended offer is no registration: they start again
            self.confirmed.append(user)
            return Outcome("confirmed")
        if not self.waitlist_enabled:
            return Outcome("rejected", reason="event_full")
        self.ended.pop(user, None)
        self.waitlist.append(user)
        return Outcome("waitlisted", position=len(self.waitlist))

    def cancel(self, user: str, now: str) -> Outcome:
        if user in self.waitlist:
            self.waitlist.remove(user)
            return Outcome("cancelled")
        if user in self.offers:
            del self.offers[user]
        elif user in self.confirmed:
            self.confirmed.remove(user)
        else:
            return Outcome("not_registered")
        return self._freed("cancelled", now)

    def accept(self, user: str, asked_at: str) -> Outcome:
        if user not in self.offers:
            return self._no_offer(user)
        if asked_at >= self.offers[user]:
            return Outcome("rejected", reason="offer_expired")
        del self.offers[user]
        self.confirmed.append(user)
        return Outcome("confirmed")

    def decline(self, user: str, now: str) -> Outcome:
        if user not in self.offers:
            return self._no_offer(user)
        del self.offers[user]
        self.ended[user] = "declined"
        return self._freed("declined", now)

    def expire(self, user: str, expires_at: str, now: str) -> Outcome:
        if self.offers.get(user) != expires_at:
            return Outcome("rejected", reason="no_offer")
        del self.offers[user]
        self.ended[user] = "offer_expired"
        return self._freed("offer_expired", now)

    def due(self, now: str) -> set[tuple[str, str]]:
        return {(user, expires) for user, expires in self.offers.items() if expires <= now}

    def change(
        self,
        capacity: int,
        is_open: bool | None,
        waitlist: bool | None,
        accepted_at: str,
        now: str,
        offer_ttl: int | str | None = "keep",
    ) -> Outcome:
        if accepted_at < self.changed_at:  # a newer change was applied since: never undo it
            return Outcome("rejected", reason="superseded")
        self.capacity, self.changed_at = capacity, accepted_at
        if is_open is not None:
            self.is_open = is_open
        if waitlist is not None:
            self.waitlist_enabled = waitlist
        if offer_ttl != "keep":
            assert not isinstance(offer_ttl, str)
            self.offer_ttl = offer_ttl
        self._fill(now)
        return Outcome("capacity_changed", capacity=capacity)

    def _no_offer(self, user: str) -> Outcome:
        lapsed = self.ended.get(user) == "offer_expired"
        return Outcome("rejected", reason="offer_expired" if lapsed else "no_offer")

    def _freed(self, kind: str, now: str) -> Outcome:
        offering = self.offer_ttl is not None
        filled = tuple(self._fill(now))
        return Outcome(kind, offered_user_ids=filled) if offering else Outcome(kind, promoted_user_ids=filled)

    def _fill(self, now: str) -> list[str]:
        filled = []
        while len(self.confirmed) + len(self.offers) < self.capacity and self.waitlist:
            user = self.waitlist.pop(0)
            if self.offer_ttl is None:
                self.confirmed.append(user)
            else:
                self.offers[user] = offer_expiry(now, self.offer_ttl)
            filled.append(user)
        return filled
