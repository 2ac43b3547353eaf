from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.events.domain import (
    Event,
    EventStatus,
    apply_changes,
    check_changes,
    date_sort_key,
    offer_setting,
    offer_ttl,
)


def test_available_seats_never_negative_after_a_capacity_cut():
    event = Event("e", "t", "2026-01-01", capacity=2, confirmed_count=5)
    assert event.available_seats == 0


def test_apply_changes_sets_fields_bumps_version_and_keeps_counts():
    event = Event("e", "t", "2026-01-01", capacity=2, confirmed_count=1, version=3)
    changed = apply_changes(event, {"title": "new", "status": "closed", "waitlistEnabled": True}, "now")
    assert (changed.title, changed.status, changed.waitlist_enabled) == ("new", EventStatus.CLOSED, True)
    assert (changed.version, changed.updated_at, changed.confirmed_count) == (4, "now", 1)


def test_date_sort_key_orders_dates_and_offsets_chronologically():
    values = ["2026-06-01T23:30:00-02:00", "2026-06-01", "2026-06-02T00:00:00+00:00", "2026-05-31T12:00:00"]
    ordered = sorted(values, key=date_sort_key)
    assert ordered == [
        "2026-05-31T12:00:00",
        "2026-06-01",
        "2026-06-02T00:00:00+00:00",
        "2026-06-01T23:30:00-02:00",
    ]


def test_date_sort_key_pads_years_before_1000():
    """strftime leaves year 999 as "999", which sorted after "1000" as a string."""
    assert date_sort_key("0999-12-31T23:00:00+00:00") == "0999-12-31T23:00:00.000000Z"
    assert sorted(["1000-01-01", "0999-12-31T23:00:00+00:00"], key=date_sort_key)[0].startswith("0999")


@given(
    st.lists(
        st.tuples(
            st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31)),
            st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59).map(
                lambda m: timezone(timedelta(minutes=m))
            ),
        ),
        min_size=2,
        max_size=6,
    )
)
def test_date_sort_key_orders_as_the_utc_instants_do(moments):
    values = [moment.replace(tzinfo=zone).isoformat() for moment, zone in moments]
    instants = [datetime.fromisoformat(v).astimezone(UTC) for v in values]
    by_key = sorted(range(len(values)), key=lambda i: (date_sort_key(values[i]), i))
    by_instant = sorted(range(len(values)), key=lambda i: (instants[i], i))
    assert by_key == by_instant


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "ok", "date": "9999-12-31T23:59:59-05:00"}, "date"),
        ({"date": "not a date"}, "date"),
        ({"date": 20260101}, "date"),
        ({"status": "archived"}, "status"),
        ({"waitlistEnabled": "yes"}, "waitlistEnabled"),
        ({"title": 5}, "title"),
        ({"ownerId": "me"}, "ownerId"),
        ({"capacity": 5}, "capacity"),
        ({"waitlistOffer": {"ttlSeconds": 9}}, "waitlistOffer"),
        ({"waitlistOffer": {"ttlSeconds": 604_801}}, "waitlistOffer"),
        ({"waitlistOffer": {"ttlSeconds": True}}, "waitlistOffer"),
        ({"waitlistOffer": {"ttlSeconds": 60.0}}, "waitlistOffer"),
        ({"waitlistOffer": {"ttlSeconds": 60, "x": 1}}, "waitlistOffer"),
        ({"waitlistOffer": {}}, "waitlistOffer"),
        ({"waitlistOffer": ["ttlSeconds"]}, "waitlistOffer"),
        ({"waitlistOffer": 60}, "waitlistOffer"),
    ],
)
def test_check_changes_names_the_first_field_the_event_cannot_take(changes, field):
    assert check_changes(changes) == field


def test_check_changes_accepts_what_the_api_accepts():
    changes = {"title": "t", "description": "", "date": "2026-06-01T10:00:00+02:00", "location": "x",
               "organizer": "o", "status": "closed", "waitlistEnabled": False}  # fmt: skip
    assert check_changes(changes) is None
    for offers in (None, {"ttlSeconds": 10}, {"ttlSeconds": 604_800}):
        assert check_changes({"waitlistOffer": offers}) is None


def test_a_waitlist_offer_setting_is_stored_as_its_seconds_and_shown_again():
    event = Event("e", "t", "2026-01-01", capacity=2, offered_count=1)
    held = apply_changes(event, {"waitlistOffer": {"ttlSeconds": 90}}, "now")
    assert held.waitlist_offer_ttl == 90 and offer_setting(held.waitlist_offer_ttl) == {"ttlSeconds": 90}
    assert apply_changes(held, {"waitlistOffer": None}, "now").waitlist_offer_ttl is None
    assert offer_setting(None) is None and offer_ttl(None) is None
    assert held.available_seats == 1  # the offered seat is taken
