"""The registration worker's use case: decide one event's commands, in order, exactly once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from chalicelib.registrations.domain import (
    DEFAULT_PROMOTION_BUDGET,
    Command,
    Outcome,
    Reason,
    Reject,
    RequestStatus,
    RequestType,
    WaitlistNotLoaded,
    decide,
    waitlist_needed,
)
from chalicelib.registrations.messages import CommandMessage
from chalicelib.registrations.ports import ConcurrentChange, RequestRecord, SeatStore
from chalicelib.shared.clock import Clock

logger = logging.getLogger("turnstile.decisions")


TimeLeft = Callable[[], float]  # seconds left in this invocation
ROUND_RESERVE_SECONDS = 2.0  # a round is started only with this much time left


@dataclass
class Decided:
    outcomes: dict[str, Outcome]
    unfinished: list[CommandMessage]  # to continue in a new message each, in this order


class DecisionsExhausted(RuntimeError):
    """Lost the race too many times in a row: let the queue redeliver the batch later."""


@dataclass
class DecisionService:
    store: SeatStore
    clock: Clock
    max_attempts: int = 10
    promotion_budget: int = DEFAULT_PROMOTION_BUDGET

    def process(
        self, event_id: str, messages: list[CommandMessage], time_left: TimeLeft | None = None
    ) -> Decided:
        """Decide `messages` (one event's, in queue order). Already-completed requests are skipped.
        Work that does not fit `time_left` (a long capacity raise, a big purge) is handed back in
        order as `unfinished`, to continue in the event's group."""
        outcomes: dict[str, Outcome] = {}
        unique = _first_of_each_request(messages)
        segment: list[CommandMessage] = []
        for index, message in enumerate(unique):
            if message.type != RequestType.PURGE_EVENT:
                segment.append(message)
                continue
            decided = self._decide(event_id, segment, time_left)
            outcomes.update(decided.outcomes)
            if decided.unfinished:
                return Decided(outcomes, decided.unfinished + unique[index:])
            segment = []
            removed, finished = self.store.purge(event_id, time_left)
            logger.info("purged %s registrations of deleted event %s", removed, event_id)
            if not finished:
                return Decided(outcomes, unique[index:])
        decided = self._decide(event_id, segment, time_left)
        outcomes.update(decided.outcomes)
        return Decided(outcomes, decided.unfinished)

    def _decide(self, event_id: str, messages: list[CommandMessage], time_left: TimeLeft | None) -> Decided:
        outcomes: dict[str, Outcome] = {}
        pending = messages
        lost_races = 0
        waitlist_size = 0
        rejected: dict[str, Reason] = {}  # request id -> reason: its own data cannot be committed
        rounds = 0
        while pending:
            if rounds and time_left is not None and time_left() < ROUND_RESERVE_SECONDS:
                return Decided(outcomes, pending)  # no time for another round: continue later
            rounds += 1
            commands = [_command(m, rejected) for m in pending]
            waitlist_size = max(waitlist_size, waitlist_needed(commands, self.promotion_budget))
            snapshot = self.store.load(
                event_id,
                user_ids={m.userId for m in pending if m.userId},
                # Read whether each was decided already (a redelivery, or a copy sent again):
                # a register's decision may be kept on a registration that a later cancel has
                # since removed, and then no condition of the commit would notice it.
                request_ids={m.requestId for m in pending},
                waitlist_size=waitlist_size,
            )
            pending = [m for m in pending if snapshot.is_pending(m.requestId)]
            if not pending:
                break
            commands = [_command(m, rejected) for m in pending]
            now = self.clock.now()
            try:
                plan = decide(snapshot.seats, commands, self.promotion_budget, now=now)
            except WaitlistNotLoaded:
                waitlist_size = max(4 * waitlist_size, 16)
                continue
            try:
                self.store.commit(snapshot, plan, {m.requestId: _record(m, now) for m in pending}, now)
            except ConcurrentChange:
                lost_races += 1
                if lost_races >= self.max_attempts:
                    raise DecisionsExhausted(f"event {event_id}: {lost_races} lost races") from None
                continue
            except OWN_FAULTS as fault:
                # Some request carries data the store cannot write. Find it (one by one), reject
                # it, and let the rest of the batch go on: never stall the event's group on it.
                if len(pending) > 1:
                    for position, message in enumerate(pending):
                        one = self._decide(event_id, [message], time_left)
                        outcomes.update(one.outcomes)
                        if one.unfinished:
                            return Decided(outcomes, one.unfinished + pending[position + 1 :])
                    return Decided(outcomes, [])
                logger.error("request %s cannot be committed (%r): rejected", pending[0].requestId, fault)
                rejected[pending[0].requestId] = Reason.INVALID_REQUEST
                continue
            outcomes.update(plan.outcomes)
            pending = [m for m in pending if m.requestId not in plan.outcomes]
        return Decided(outcomes, [])


# A request's own data, not the infrastructure, made its commit fail (a value the store cannot
# convert). Infrastructure errors (throttling, timeouts, lost races past the limit) still raise.
OWN_FAULTS = (ValueError, TypeError, KeyError, OverflowError)


def _command(message: CommandMessage, rejected: dict[str, Reason]) -> Command:
    reason = rejected.get(message.requestId)
    return Reject(message.requestId, reason) if reason else message.to_command()


def _record(message: CommandMessage, now: str) -> RequestRecord:
    """The record of the request a command carries, pending (an import's row has no record of
    its own until its decision writes this one)."""
    return RequestRecord(
        request_id=message.requestId,
        type=message.type,
        event_id=message.eventId,
        user_id=message.userId,
        status=RequestStatus.PENDING,
        created_at=message.createdAt or now,
        requested_by=message.requestedBy,
        import_id=message.importId,
        row=message.row,
    )


def _first_of_each_request(messages: list[CommandMessage]) -> list[CommandMessage]:
    seen: set[str] = set()
    unique = []
    for message in messages:
        if message.requestId not in seen:
            seen.add(message.requestId)
            unique.append(message)
    return unique
