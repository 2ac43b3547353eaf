"""The registration worker's use case: decide one event's commands, in order, exactly once."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from chalicelib.registrations.domain import (
    DEFAULT_PROMOTION_BUDGET,
    Command,
    Outcome,
    Reject,
    WaitlistNotLoaded,
    decide,
    waitlist_needed,
)
from chalicelib.registrations.messages import INVALID_REQUEST, PURGE_EVENT, CommandMessage
from chalicelib.registrations.ports import ConcurrentChange, SeatStore
from chalicelib.shared.clock import Clock

logger = logging.getLogger("turnstile.decisions")


class DecisionsExhausted(RuntimeError):
    """Lost the race too many times in a row: let the queue redeliver the batch later."""


@dataclass
class DecisionService:
    store: SeatStore
    clock: Clock
    max_attempts: int = 10
    promotion_budget: int = DEFAULT_PROMOTION_BUDGET

    def process(self, event_id: str, messages: list[CommandMessage]) -> dict[str, Outcome]:
        """Decide `messages` (one event's, in queue order). Already-completed requests are skipped."""
        outcomes: dict[str, Outcome] = {}
        segment: list[CommandMessage] = []
        for message in _first_of_each_request(messages):
            if message.type == PURGE_EVENT:
                outcomes.update(self._decide(event_id, segment))
                segment = []
                removed = self.store.purge(event_id)
                logger.info("purged %s registrations of deleted event %s", removed, event_id)
            else:
                segment.append(message)
        outcomes.update(self._decide(event_id, segment))
        return outcomes

    def _decide(self, event_id: str, messages: list[CommandMessage]) -> dict[str, Outcome]:
        outcomes: dict[str, Outcome] = {}
        pending = messages
        lost_races = 0
        waitlist_size = 0
        rejected: dict[str, str] = {}  # request id -> reason: its own data cannot be committed
        while pending:
            commands = [_command(m, rejected) for m in pending]
            waitlist_size = max(waitlist_size, waitlist_needed(commands, self.promotion_budget))
            snapshot = self.store.load(
                event_id,
                user_ids={m.userId for m in pending if m.userId},
                # Optimistic: assume every request is new (the commit's conditions check it);
                # after a lost race, read them, to skip any a redelivery already completed.
                request_ids={m.requestId for m in pending} if lost_races else set(),
                waitlist_size=waitlist_size,
            )
            pending = [m for m in pending if snapshot.is_pending(m.requestId)]
            if not pending:
                break
            commands = [_command(m, rejected) for m in pending]
            try:
                plan = decide(snapshot.seats, commands, self.promotion_budget)
            except WaitlistNotLoaded:
                waitlist_size = max(4 * waitlist_size, 16)
                continue
            try:
                self.store.commit(snapshot, plan, {m.requestId: m for m in pending}, self.clock.now())
            except ConcurrentChange:
                lost_races += 1
                if lost_races >= self.max_attempts:
                    raise DecisionsExhausted(f"event {event_id}: {lost_races} lost races") from None
                continue
            except OWN_FAULTS as fault:
                # Some request carries data the store cannot write. Find it (one by one), reject
                # it, and let the rest of the batch go on: never stall the event's group on it.
                if len(pending) > 1:
                    for message in pending:
                        outcomes.update(self._decide(event_id, [message]))
                    return outcomes
                logger.error("request %s cannot be committed (%r): rejected", pending[0].requestId, fault)
                rejected[pending[0].requestId] = INVALID_REQUEST
                continue
            outcomes.update(plan.outcomes)
            pending = [m for m in pending if m.requestId not in plan.outcomes]
        return outcomes


# A request's own data, not the infrastructure, made its commit fail (a value the store cannot
# convert). Infrastructure errors (throttling, timeouts, lost races past the limit) still raise.
OWN_FAULTS = (ValueError, TypeError, KeyError, OverflowError)


def _command(message: CommandMessage, rejected: dict[str, str]) -> Command:
    reason = rejected.get(message.requestId)
    return Reject(message.requestId, reason) if reason else message.to_command()


def _first_of_each_request(messages: list[CommandMessage]) -> list[CommandMessage]:
    seen: set[str] = set()
    unique = []
    for message in messages:
        if message.requestId not in seen:
            seen.add(message.requestId)
            unique.append(message)
    return unique
