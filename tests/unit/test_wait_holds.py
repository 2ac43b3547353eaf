"""`Prefer: wait` holds are capped per subject: past the cap a request is answered at once."""

from __future__ import annotations

from dataclasses import replace

from chalicelib.registrations.memory import MemoryWaitHolds
from chalicelib.registrations.ports import HOLD_SECONDS, RequestRecord
from chalicelib.registrations.service import WAITS_PER_SUBJECT
from chalicelib.shared.caller import Caller
from tests.fakes import memory_services

PENDING = RequestRecord("r1", "register", "e1", "ada", "pending", "2026-01-01T00:00:00Z", requested_by="ada")


def test_a_subject_past_the_cap_is_answered_at_once_and_others_still_wait():
    services = memory_services()
    registrations = services.registrations
    slept: list[float] = []
    clock = iter(range(1000))
    registrations.sleep, registrations.monotonic = slept.append, lambda: float(next(clock))
    now = services.registrations.submitter.clock.epoch_seconds()
    for _ in range(WAITS_PER_SUBJECT):
        assert registrations.holds.acquire("ada", now, WAITS_PER_SUBJECT)  # held by other requests
    assert registrations.waited(Caller("ada"), PENDING, 5) == PENDING
    assert slept == [], "over the cap: not held"
    registrations.waited(Caller("bob"), replace(PENDING, requested_by="bob"), 5)
    assert slept, "another subject still waits"
    registrations.holds.release("ada")
    slept.clear()
    registrations.waited(Caller("ada"), PENDING, 5)
    assert slept, "a released hold makes room"


def test_a_hold_whose_release_was_lost_is_forgotten_after_the_window():
    holds = MemoryWaitHolds()
    assert holds.acquire("ada", 100, 1)
    assert not holds.acquire("ada", 100 + HOLD_SECONDS - 1, 1)
    assert holds.acquire("ada", 100 + HOLD_SECONDS + 1, 1)
