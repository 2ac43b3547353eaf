"""EventRepository and UserRepository: the in-memory fakes and DynamoDB Local behave the same."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from chalicelib.events.domain import Event, EventStatus
from chalicelib.events.dynamodb import DynamoEventRepository
from chalicelib.events.memory import MemoryEventRepository
from chalicelib.shared import resources
from chalicelib.shared.problems import InvalidCursor
from chalicelib.users.domain import User
from chalicelib.users.dynamodb import DynamoUserRepository
from chalicelib.users.memory import MemoryUserRepository
from devstack.bootstrap import create_table


@pytest.fixture(params=["memory", "dynamodb"])
def repositories(request):
    """A fresh table per test: the event listings below count everything in it."""
    if request.param == "memory":
        return MemoryEventRepository(), MemoryUserRepository()
    emulators = request.getfixturevalue("emulators")
    table = f"contract-{uuid.uuid4().hex[:8]}"
    dynamodb = emulators.client("dynamodb")
    create_table(dynamodb, replace(resources.TABLE, name=table))
    return DynamoEventRepository(dynamodb, table), DynamoUserRepository(dynamodb, table)


def event(event_id: str, day: int = 1, status: EventStatus = EventStatus.ACTIVE) -> Event:
    return Event(
        event_id,
        f"title {event_id}",
        f"2026-07-{day:02d}",
        capacity=10,
        status=status,
        created_at="c",
        updated_at="u",
    )


def test_add_get_and_duplicate(repositories):
    events, _ = repositories
    assert events.add(event("a"))
    assert not events.add(event("a"))
    assert events.get("a") == event("a")
    assert events.get("missing") is None


def test_update_is_conditional_on_version(repositories):
    events, _ = repositories
    events.add(event("a"))
    assert events.update(replace(event("a"), title="new", version=2), expected_version=1)
    assert not events.update(replace(event("a"), title="stale", version=2), expected_version=1)
    assert events.get("a").title == "new"
    assert not events.update(replace(event("zz"), version=2), expected_version=1)


def test_mark_deleting_hides_the_event_until_undone(repositories):
    events, _ = repositories
    events.add(event("a"))
    assert events.deleting("a") is None
    assert events.mark_deleting("a")
    assert not events.mark_deleting("a")
    assert events.get("a") is None
    assert events.deleting("a") == event("a"), "a retried DELETE finds it half deleted"
    assert not events.add(event("a")), "the id stays taken until the purge removes it"
    events.unmark_deleting("a")
    assert events.get("a") == event("a")
    assert [e.event_id for e in events.list(None, 10, None)[0]] == ["a"]


def test_list_pages_in_date_order_and_filters_status(repositories):
    events, _ = repositories
    for day in (5, 3, 1, 4, 2):
        status = EventStatus.CLOSED if day == 4 else EventStatus.ACTIVE
        events.add(event(f"e{day}", day, status))
    seen, after = [], None
    while True:
        page, after = events.list(None, 2, after)
        seen += [e.event_id for e in page]
        if after is None:
            break
    assert seen == ["e1", "e2", "e3", "e4", "e5"]
    active, _ = events.list("active", 10, None)
    assert [e.event_id for e in active] == ["e1", "e2", "e3", "e5"]
    # status index follows an update
    events.update(replace(events.get("e1"), status=EventStatus.CLOSED, version=2), 1)
    closed, _ = events.list("closed", 10, None)
    assert [e.event_id for e in closed] == ["e1", "e4"]


def test_users(repositories):
    _, users = repositories
    ada = User("ada", "Ada", "ada@example.org", "c")
    assert users.add(ada)
    assert not users.add(ada)
    assert users.get("ada") == ada
    assert users.get("nobody") is None


def test_a_position_from_another_listing_is_an_invalid_cursor(repositories):
    events, _ = repositories
    for day in (1, 2, 3):
        events.add(event(f"e{day}", day))
    _, after = events.list(None, 1, None)
    assert after is not None
    with pytest.raises(InvalidCursor):
        events.list(None, 1, {"forged": "position"})


def test_users_add_many_never_overwrites(repositories):
    _, users = repositories
    ada = User("ada", "Ada", "ada@example.org", "c")
    users.add(ada)
    created = users.add_many([User("ada", "Imposter"), User("bob", "Bob"), User("cy", "Cy")])
    assert created == 2
    assert users.get("ada") == ada
    assert users.get("cy") == User("cy", "Cy")
