"""The decision core's vocabulary is typed: outcome kinds and reasons are enums, and a command
the core does not know is a programming error, never taken for a capacity change."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from chalicelib.registrations.domain import EventSeats, OutcomeKind, Reason, Register, decide
from chalicelib.registrations.items import stored_outcome

NOW = "2026-12-02T10:00:00.000000Z"  # when the decisions are made


def seats(capacity: int, waitlist: bool) -> EventSeats:
    return EventSeats("e1", True, True, capacity, waitlist, 0, 0, 1)


def test_outcomes_are_enum_members_and_go_out_as_plain_strings():
    plan = decide(seats(1, False), [Register("r1", "ada"), Register("r2", "bob")], now=NOW)
    first, second = plan.outcomes["r1"], plan.outcomes["r2"]
    assert first.kind is OutcomeKind.CONFIRMED
    assert (second.kind, second.reason) == (OutcomeKind.REJECTED, Reason.EVENT_FULL)
    body = stored_outcome(second)
    assert body == {"type": "rejected", "reason": "event_full"}
    assert type(body["type"]) is str and type(body["reason"]) is str


def test_a_command_the_core_does_not_know_is_an_error():
    @dataclass(frozen=True)
    class Teleport:
        request_id: str

    with pytest.raises(AssertionError):
        decide(seats(5, True), [Teleport("r1")], now=NOW)  # type: ignore[list-item]
