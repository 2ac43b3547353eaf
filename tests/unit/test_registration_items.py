"""Where a register's decision is kept (`items.move_items`, `items.decisions_made`): on the
registration it makes, carried on by moves that keep the registration's request, and moved to a
request item of its own by any other move."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.registrations.domain import (
    Complete,
    Move,
    Outcome,
    OutcomeKind,
    Plan,
    Reason,
    Registration,
    RequestStatus,
    RequestType,
    Standing,
)
from chalicelib.registrations.items import (
    DECISION,
    MOVED_FROM_REGISTRATION,
    Stamp,
    WaitlistWrites,
    decisions_made,
    joined_in,
    keeps_decision,
    marked_request_id,
    move_items,
    registration_decision,
    registration_from_item,
    waitlist_writes,
)
from chalicelib.registrations.ports import RequestRecord

NOW = "2026-01-01T00:00:02.000000Z"
STAMP = Stamp({"confirmedCount": 1}, "owner")
KEPT = {
    "outcome": {"type": "waitlisted", "position": 1},
    "createdAt": "2026-01-01T00:00:00Z",
    "completedAt": NOW,
}
R1 = marked_request_id("e", "ada", "one")
WAITING = Registration("ada", Standing.WAITLISTED, wait_seq=1, request_id=R1)


def record(
    request_id: str, type_: RequestType = RequestType.REGISTER, import_id: str | None = None
) -> RequestRecord:
    return RequestRecord(
        request_id, type_, "e", "ada", RequestStatus.PENDING, "2026-01-01T00:00:00Z", import_id=import_id
    )


@pytest.mark.parametrize(
    ("request_id", "type_", "kind", "kept"),
    [
        (R1, RequestType.REGISTER, OutcomeKind.CONFIRMED, True),
        (R1, RequestType.REGISTER, OutcomeKind.WAITLISTED, True),
        (R1, RequestType.REGISTER, OutcomeKind.REJECTED, False),  # no registration to keep it
        (R1, RequestType.REGISTER, OutcomeKind.ALREADY_REGISTERED, False),  # another request's
        (R1, RequestType.CANCEL, OutcomeKind.CANCELLED, False),
        ("import-i1-3", RequestType.REGISTER, OutcomeKind.CONFIRMED, False),  # the import reads its rows
    ],
)
def test_which_decisions_a_registration_keeps(request_id, type_, kind, kept):
    reason = Reason.EVENT_FULL if kind is OutcomeKind.REJECTED else None
    assert keeps_decision(record(request_id, type_), Outcome(kind, reason=reason)) is kept


def test_a_plan_keeps_a_register_decision_on_the_registration_it_makes_and_nothing_else():
    r2 = marked_request_id("e", "bob", "two")
    made = Registration("ada", Standing.CONFIRMED, request_id=R1)
    plan = Plan(
        changes=[
            Move("ada", None, made, R1),
            Complete(R1, Outcome(OutcomeKind.CONFIRMED)),
            Complete(r2, Outcome(OutcomeKind.REJECTED, reason=Reason.EVENT_FULL)),
        ]
    )
    decisions = decisions_made(plan, {R1: record(R1), r2: record(r2)}, NOW)
    assert decisions == {
        R1: {
            "outcome": {"type": "confirmed"},
            "createdAt": "2026-01-01T00:00:00Z",
            "completedAt": NOW,
            "requestedBy": None,
        }
    }


def test_a_new_registration_keeps_the_decision_its_request_made():
    items = move_items("e", Move("ada", None, WAITING, R1), STAMP, None, KEPT)
    assert items.registration[DECISION] == KEPT and items.moved_decision is None


def test_a_move_that_keeps_the_registrations_request_carries_its_decision_on():
    promoted = WAITING.confirmed(NOW)
    items = move_items("e", Move("ada", WAITING, promoted, "cancel-1"), STAMP, KEPT, None)
    assert items.registration[DECISION] == KEPT and items.moved_decision is None


@pytest.mark.parametrize("after", [None, replace(WAITING, request_id="r-anew")], ids=["removed", "anew"])
def test_any_other_move_takes_the_decision_off_to_a_request_item_of_its_own(after):
    made = KEPT if after is not None else None
    items = move_items("e", Move("ada", WAITING, after, "later"), STAMP, KEPT, made)
    moved = items.moved_decision
    assert moved is not None and moved[MOVED_FROM_REGISTRATION] is True
    assert (moved["PK"], moved["requestId"], moved["userId"], moved["status"]) == (
        f"REQUEST#{R1}",
        R1,
        "ada",
        RequestStatus.COMPLETED,
    )
    assert moved["outcome"] == KEPT["outcome"] and moved["completedAt"] == NOW
    assert (items.registration is None) is (after is None)


def test_a_registration_shows_a_decision_only_to_the_request_it_keeps():
    item = move_items("e", Move("ada", None, WAITING, R1), STAMP, None, KEPT).registration
    assert registration_decision(item, R1)["outcome"] == KEPT["outcome"]
    assert registration_decision(item, "another") is None


LEGACY = "0123456789abcdef01234567_one"  # a marked id of the earlier shape (a hash of event and user)


@pytest.mark.parametrize(
    ("before", "request_id", "ensures"),
    [
        (None, R1, False),  # the API kept the request as the person's mark: it is there
        (None, "import-i1-3", True),  # an import's row: no mark yet
        (None, marked_request_id("e", "bob", "x"), True),  # another person's mark is not theirs
        (None, LEGACY, True),  # its mark was PENDING#{hash}, which is not their list
        (WAITING, "import-i1-3", False),  # a registration that was there was marked when made
    ],
    ids=["marked", "import-row", "someone-elses", "earlier-shape", "not-new"],
)
def test_a_new_registration_whose_request_is_not_the_persons_mark_makes_one(before, request_id, ensures):
    after = Registration("ada", Standing.CONFIRMED, request_id=request_id)
    assert move_items("e", Move("ada", before, after, request_id), STAMP, None, None).ensures_mark is ensures


def test_a_registration_item_is_in_no_index_of_a_users_registrations():
    item = move_items("e", Move("ada", None, WAITING, R1), STAMP, None, KEPT).registration
    assert not [name for name in item if name.startswith("GSI1")]


# --- the waitlist's order: joiners items (`items.waitlist_writes`) ---------------------------


def waiting(user: str, seq: int) -> Registration:
    return Registration(user, Standing.WAITLISTED, wait_seq=seq, request_id=f"r-{user}")


def joiners_of(puts: list[dict]) -> dict[str, dict[str, str]]:
    return {item["SK"]: item["joiners"] for item in puts}


def test_a_plan_puts_its_joiners_in_one_item_keyed_by_the_first_place():
    plan = Plan(
        changes=[Move("ada", None, waiting("ada", 7), "r1"), Move("bob", None, waiting("bob", 8), "r2")]
    )
    written = waitlist_writes("e1", plan, {}, {})
    assert joiners_of(written.puts) == {"WAIT#000000000000007": {"7": "ada", "8": "bob"}}
    assert written.deletes == []
    item = move_items("e1", plan.changes[0], STAMP, None, None, joined_in=7).registration
    assert (item["waitlistSeq"], item["joinersItem"], "waitSeq" in item) == (7, 7, False)


def test_whoever_leaves_is_taken_out_of_their_item_and_an_emptied_item_is_deleted():
    promoted = Move("ada", waiting("ada", 1), waiting("ada", 1).confirmed(NOW), "c1")
    cancelled = Move("cy", waiting("cy", 5), None, "c2")
    plan = Plan(changes=[promoted, cancelled])
    loaded = {1: {1: "ada", 2: "bob"}, 5: {5: "cy"}}
    written = waitlist_writes("e1", plan, loaded, {"ada": 1, "cy": 5})
    assert joiners_of(written.puts) == {"WAIT#000000000000001": {"2": "bob"}}
    assert written.deletes == [{"PK": {"S": "EVENT#e1"}, "SK": {"S": "WAIT#000000000000005"}}]


def test_one_waitlisted_before_the_joiners_items_leaves_only_its_lsi1_entry():
    plan = Plan(changes=[Move("old", waiting("old", 1), None, "c1")])
    assert waitlist_writes("e1", plan, {}, {}) == WaitlistWrites([], [])
    stored_before = {"status": "waitlisted", "waitSeq": 1, "userId": "old"}
    assert registration_from_item(stored_before).wait_seq == 1
    assert joined_in(stored_before) is None


def test_an_item_the_load_did_not_read_is_a_fault_not_a_guess():
    plan = Plan(changes=[Move("ada", waiting("ada", 3), None, "c1")])
    with pytest.raises(RuntimeError):
        waitlist_writes("e1", plan, {}, {"ada": 3})
